using System.Text;
using System.Threading.Channels;
using Castor.Engine.Sampling;
using Castor.Engine.Text;
using LLama;
using LLama.Native;
using Microsoft.Extensions.Logging;

namespace Castor.Engine.Scheduling;

/// <summary>
/// The only code that touches a model's llama context. It runs on its own thread with synchronous
/// <c>Decode</c> calls (per-token <c>DecodeAsync</c> costs about 4x here), takes requests from a bounded queue,
/// decodes every active sequence in one batch per step, and streams tokens back through per-request channels.
/// Requests join and leave at token boundaries; a cancelled request frees its sequence at the next step.
/// </summary>
public sealed class SequenceScheduler : IDisposable
{
    private readonly string _modelId;
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly SchedulerOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<Job> _queue;
    private readonly Sequence?[] _slots;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;
    private readonly LLamaToken _bos;
    private int _nextSlot;
    private long _tokensGenerated;

    public SequenceScheduler(string modelId, LLamaWeights weights, LLamaContext context, SchedulerOptions options, ILogger logger)
    {
        _modelId = modelId;
        _weights = weights;
        _context = context;
        _options = options;
        _logger = logger;
        _bos = weights.Vocab.BOS ?? LLamaToken.InvalidToken;
        _slots = new Sequence?[options.Parallel];
        _queue = Channel.CreateBounded<Job>(new BoundedChannelOptions(Math.Max(1, options.MaxQueue))
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _thread = new Thread(Run) { IsBackground = true, Name = $"castor-scheduler-{modelId}" };
        _thread.Start();
    }

    public SchedulerOptions Options => _options;

    /// <summary>Number of sequences currently decoding (for diagnostics and tests).</summary>
    public int ActiveSequences => _slots.Count(s => s is not null);

    /// <summary>Tokens sampled since start, across all sequences (a cheap throughput and cancellation probe).</summary>
    public long TokensGenerated => Interlocked.Read(ref _tokensGenerated);

    /// <summary>
    /// Queues a request. Throws <see cref="EngineOverloadedException"/> at once when the wait queue is full.
    /// The returned reader completes after a <see cref="GenerationFinished"/> or <see cref="GenerationFailed"/> event,
    /// or silently when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public ChannelReader<EngineEvent> Submit(EngineRequest request, CancellationToken cancellationToken)
    {
        if (request.PromptTokens.Count == 0)
            throw new ArgumentException("A prompt needs at least one token.", nameof(request));
        if (request.PromptTokens.Count >= _options.ContextPerSequence)
            throw new ArgumentException("The prompt does not fit the context window.", nameof(request));
        var output = Channel.CreateUnbounded<EngineEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var job = new Job(request, output, cancellationToken);
        if (!_queue.Writer.TryWrite(job))
            throw new EngineOverloadedException(_modelId);
        return output.Reader;
    }

    private void Run()
    {
        var batch = new LLamaBatch();
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                Admit();
                if (_slots.All(s => s is null))
                {
                    WaitForWork();
                    continue;
                }
                Step(batch);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // One bad step must not take the model down: fail what was running and carry on.
                _logger.LogError(ex, "Scheduler step failed for model {Model}", _modelId);
                for (var i = 0; i < _slots.Length; i++)
                    if (_slots[i] is { } seq)
                        Release(seq, new GenerationFailed("The engine failed while decoding: " + ex.Message));
            }
        }

        for (var i = 0; i < _slots.Length; i++)
            if (_slots[i] is { } seq)
                Release(seq, new GenerationFailed("The server is shutting down."));
        while (_queue.Reader.TryRead(out var job))
            job.Output.Writer.TryComplete();
    }

    private void WaitForWork()
    {
        try
        {
            _queue.Reader.WaitToReadAsync(_stopping.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Admit()
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            if (_slots[i] is not null) continue;
            while (_queue.Reader.TryRead(out var job))
            {
                if (job.CancellationToken.IsCancellationRequested)
                {
                    job.Output.Writer.TryComplete();
                    continue;
                }
                var seqId = (LLamaSeqId)i;
                _context.NativeHandle.MemorySequenceRemove(seqId, -1, -1);
                _slots[i] = new Sequence(job, seqId, SamplerChain.Create(job.Request.Sampling),
                    new StreamingTokenDecoder(Encoding.UTF8, _weights), new StopSequenceMatcher(job.Request.StopSequences));
                break;
            }
            if (_slots[i] is null) return;
        }
    }

    private void Step(LLamaBatch batch)
    {
        batch.Clear();
        var budget = _options.BatchSize;

        // Decoding sequences go first (one token each) so a long prompt being prefilled cannot stall their streams;
        // prompts then share what is left of the batch, starting from a rotating slot so none is starved.
        for (var i = 0; i < _slots.Length; i++)
        {
            if (_slots[i] is not { } seq) continue;
            if (seq.Job.CancellationToken.IsCancellationRequested)
            {
                Release(seq, null);
                continue;
            }
            seq.LogitIndex = -1;
            if (seq.InPrefill || budget == 0) continue;
            seq.LogitIndex = batch.TokenCount;
            batch.Add(seq.LastToken, seq.Position, seq.Id, true);
            seq.Position++;
            budget--;
        }

        for (var n = 0; n < _slots.Length && budget > 0; n++)
        {
            var i = (_nextSlot + n) % _slots.Length;
            if (_slots[i] is not { InPrefill: true } seq) continue;
            var prompt = seq.Job.Request.PromptTokens;
            var count = Math.Min(budget, prompt.Count - seq.PromptOffset);
            for (var k = 0; k < count; k++)
            {
                var last = seq.PromptOffset + k == prompt.Count - 1;
                if (last) seq.LogitIndex = batch.TokenCount;
                batch.Add(prompt[seq.PromptOffset + k], seq.Position, seq.Id, last);
                seq.Position++;
            }
            seq.PromptOffset += count;
            budget -= count;
        }
        _nextSlot = (_nextSlot + 1) % _slots.Length;

        if (batch.TokenCount == 0) return;

        var result = _context.NativeHandle.Decode(batch);
        if (result != DecodeResult.Ok)
        {
            for (var i = 0; i < _slots.Length; i++)
                if (_slots[i] is { } seq)
                    Release(seq, new GenerationFailed($"llama.cpp could not decode the batch ({result})."));
            return;
        }

        for (var i = 0; i < _slots.Length; i++)
        {
            if (_slots[i] is not { } seq || seq.LogitIndex < 0) continue;
            SampleNext(seq);
        }
    }

    private void SampleNext(Sequence seq)
    {
        var token = seq.Sampler.Sample(_context.NativeHandle, seq.LogitIndex);
        seq.Sampler.Accept(token);
        seq.LastToken = token;
        Interlocked.Increment(ref _tokensGenerated);

        if (token == _bos || token.IsEndOfGeneration(_weights.Vocab))
        {
            Finish(seq, FinishCause.EndOfText);
            return;
        }

        seq.OutputTokens++;
        seq.Decoder.Add(token);
        var piece = seq.Decoder.Read();
        var safe = seq.Stops.Push(piece);
        if (safe.Length > 0)
            seq.Job.Output.Writer.TryWrite(new TextGenerated(safe));

        if (seq.Stops.Stopped)
            Finish(seq, FinishCause.StopSequence);
        else if (seq.OutputTokens >= seq.Job.Request.MaxOutputTokens)
            Finish(seq, FinishCause.MaxOutputTokens);
        else if (seq.Position >= _options.ContextPerSequence)
            Finish(seq, FinishCause.ContextFull);
    }

    private void Finish(Sequence seq, FinishCause cause)
    {
        var rest = seq.Stops.Flush();
        if (rest.Length > 0)
            seq.Job.Output.Writer.TryWrite(new TextGenerated(rest));
        Release(seq, new GenerationFinished(cause, seq.Job.Request.PromptTokens.Count, seq.OutputTokens));
    }

    private void Release(Sequence seq, EngineEvent? last)
    {
        if (last is not null)
            seq.Job.Output.Writer.TryWrite(last);
        seq.Job.Output.Writer.TryComplete();
        seq.Sampler.Dispose();
        _context.NativeHandle.MemorySequenceRemove(seq.Id, -1, -1);
        _slots[(int)seq.Id] = null;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _queue.Writer.TryComplete();
        _thread.Join(TimeSpan.FromSeconds(10));
        _stopping.Dispose();
    }

    private sealed record Job(EngineRequest Request, Channel<EngineEvent> Output, CancellationToken CancellationToken);

    private sealed class Sequence(Job job, LLamaSeqId id, SafeLLamaSamplerChainHandle sampler, StreamingTokenDecoder decoder, StopSequenceMatcher stops)
    {
        public Job Job { get; } = job;
        public LLamaSeqId Id { get; } = id;
        public SafeLLamaSamplerChainHandle Sampler { get; } = sampler;
        public StreamingTokenDecoder Decoder { get; } = decoder;
        public StopSequenceMatcher Stops { get; } = stops;
        public int PromptOffset { get; set; }
        public int Position { get; set; }
        public int OutputTokens { get; set; }
        public int LogitIndex { get; set; } = -1;
        public LLamaToken LastToken { get; set; }
        public bool InPrefill => PromptOffset < Job.Request.PromptTokens.Count;
    }
}
