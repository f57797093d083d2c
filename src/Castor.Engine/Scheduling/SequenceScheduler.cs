using System.Diagnostics;
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
/// <c>Decode</c> calls (per-token <c>DecodeAsync</c> costs about 4x here) and does continuous batching:
/// every step decodes one token for each generating sequence plus a chunk of pending prompts, in one batch,
/// so requests join and leave at token boundaries and a long prompt cannot stall other streams.
/// <para>
/// The KV cache is unified: each slot (llama sequence id) keeps the tokens it last held after its request ends,
/// and a new request starts from the slot whose resident tokens share the longest prefix with its prompt
/// (or copies that prefix from a busy slot, which shares the cells rather than duplicating them). Candidates of
/// one request fork the prompt's KV after it is computed once. Prefixes are only reused within one
/// <see cref="EngineRequest.PrefixPartition"/>: a slot remembers the partition of the request that filled it.
/// </para>
/// <para>
/// Grammar-constrained draws run off this thread, on a copy of their logits: grammar work grows with the ambiguity
/// of the grammar and cannot be interrupted inside llama.cpp, so one costly schema must not stall every other stream.
/// The sequence sits out the batches until its token is drawn; a draw that outlasts
/// <see cref="SchedulerOptions.GrammarStepTimeout"/> fails its request alone.
/// </para>
/// </summary>
public sealed class SequenceScheduler : IDisposable
{
    private readonly string _modelId;
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly SchedulerOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<Job> _queue;
    private readonly Slot[] _slots;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;
    private readonly LLamaToken _bos;
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly GrammarWorkers _grammarWorkers;
    private Job? _waiting;
    private int _abandonedDraws;
    private int _runningDraws;
    private static readonly TimeSpan DrawPoll = TimeSpan.FromMilliseconds(50);
    private long _tick;
    private long _tokensGenerated;
    private int _jobsInFlight;
    private long _promptTokensComputed;
    private long _promptTokensReused;

    public SequenceScheduler(string modelId, LLamaWeights weights, LLamaContext context, SchedulerOptions options, ILogger logger)
    {
        _modelId = modelId;
        _weights = weights;
        _context = context;
        _options = options;
        _logger = logger;
        _bos = weights.Vocab.BOS ?? LLamaToken.InvalidToken;
        _slots = Enumerable.Range(0, options.Parallel).Select(i => new Slot((LLamaSeqId)i)).ToArray();
        _queue = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
        _grammarWorkers = new GrammarWorkers(modelId);
        _thread = new Thread(Run) { IsBackground = true, Name = $"castor-scheduler-{modelId}" };
        _thread.Start();
    }

    public SchedulerOptions Options => _options;

    /// <summary>Sequences currently generating.</summary>
    public int ActiveSequences => _slots.Count(s => s.Active is not null);

    /// <summary>Grammar-constrained draws inside llama.cpp right now, abandoned ones (past their budget) included.</summary>
    public int GrammarDrawsRunning => Volatile.Read(ref _runningDraws);

    /// <summary>Tokens sampled since start, across all sequences.</summary>
    public long TokensGenerated => Interlocked.Read(ref _tokensGenerated);

    /// <summary>Prompt tokens that were decoded, and those that were found resident and skipped.</summary>
    public long PromptTokensComputed => Interlocked.Read(ref _promptTokensComputed);
    public long PromptTokensReused => Interlocked.Read(ref _promptTokensReused);

    /// <summary>
    /// Queues a request. Throws <see cref="EngineOverloadedException"/> at once when the wait queue is full.
    /// The reader completes after every candidate's <see cref="GenerationFinished"/> (or a <see cref="GenerationFailed"/>),
    /// or silently when <paramref name="cancellationToken"/> fires; cancelling frees the sequences at the next step.
    /// </summary>
    public ChannelReader<EngineEvent> Submit(EngineRequest request, CancellationToken cancellationToken)
    {
        if (request.PromptTokens.Count == 0)
            throw new ArgumentException("A prompt needs at least one token.", nameof(request));
        if (request.PromptTokens.Count >= _options.ContextPerSequence)
            throw new ArgumentException("The prompt does not fit the context window.", nameof(request));
        if (request.Candidates < 1 || request.Candidates > _options.Parallel)
            throw new ArgumentOutOfRangeException(nameof(request), $"Candidates must be between 1 and {_options.Parallel} (the parallel sequences of this model).");

        // Capacity counts requests, running or waiting: a burst that fits the free sequences is never refused,
        // and at most MaxQueue requests wait beyond them.
        if (Interlocked.Increment(ref _jobsInFlight) > _options.Parallel + _options.MaxQueue)
        {
            Interlocked.Decrement(ref _jobsInFlight);
            throw new EngineOverloadedException(_modelId);
        }
        // Grammar draws that outlived their budget still occupy a worker until llama.cpp returns; while as many of
        // them run as there are sequences, more grammar work is refused rather than piled onto more worker threads.
        if (request.Grammar is not null && Volatile.Read(ref _abandonedDraws) >= _options.Parallel)
        {
            Interlocked.Decrement(ref _jobsInFlight);
            throw new EngineOverloadedException(_modelId);
        }
        // Samplers are built here, on the caller's thread, so a grammar llama.cpp rejects fails this request alone.
        var samplers = new TokenSampler[request.Candidates];
        try
        {
            for (var i = 0; i < samplers.Length; i++)
            {
                var sampling = request.Sampling with { Seed = unchecked(request.Sampling.Seed + (uint)i) };
                samplers[i] = SamplerChain.Create(sampling, request.MaxOutputTokens, _weights.NativeHandle, request.Grammar);
            }
        }
        catch
        {
            foreach (var sampler in samplers) sampler?.Dispose();
            Interlocked.Decrement(ref _jobsInFlight);
            throw;
        }
        var output = Channel.CreateUnbounded<EngineEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var job = new Job(request, output, cancellationToken, samplers, () => Interlocked.Decrement(ref _jobsInFlight));
        if (!_queue.Writer.TryWrite(job))
        {
            job.Complete();
            throw new EngineOverloadedException(_modelId);
        }
        _wake.Set();
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
                if (ActiveSequences == 0)
                {
                    WaitForWork();
                    continue;
                }
                Step(batch);
            }
            catch (Exception ex) when (!_stopping.IsCancellationRequested)
            {
                // One bad step must not take the model down: fail what was running and carry on from an empty cache.
                _logger.LogError(ex, "Scheduler step failed for model {Model}", _modelId);
                FailAll("The engine failed while decoding: " + ex.Message);
            }
        }

        FailAll("The server is shutting down.");
        _waiting?.Complete();
        while (_queue.Reader.TryRead(out var job))
            job.Complete();
    }

    private void WaitForWork()
    {
        try
        {
            if (_waiting is null)
                _queue.Reader.WaitToReadAsync(_stopping.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Starts queued requests, strictly in arrival order, while enough slots are free for their candidates.</summary>
    private void Admit()
    {
        while (true)
        {
            if (_waiting is null)
            {
                if (!_queue.Reader.TryRead(out var next)) return;
                _waiting = next;
            }
            if (_waiting.CancellationToken.IsCancellationRequested)
            {
                _waiting.Complete();
                _waiting = null;
                continue;
            }
            var free = _slots.Where(s => s.Active is null).ToList();
            if (free.Count < _waiting.Request.Candidates) return;
            Start(_waiting, free);
            _waiting = null;
        }
    }

    private void Start(Job job, List<Slot> free)
    {
        var prompt = job.Request.PromptTokens;
        var partition = job.Request.PrefixPartition;
        // Keep at least the last prompt token to decode: its logits start generation.
        var limit = prompt.Count - 1;

        Slot? bestAny = null, bestFree = null;
        int bestAnyLength = 0, bestFreeLength = 0;
        foreach (var slot in _slots)
        {
            if (!string.Equals(slot.Partition, partition, StringComparison.Ordinal)) continue;
            var length = Math.Min(limit, slot.CommonPrefix(prompt));
            if (length > bestAnyLength) (bestAny, bestAnyLength) = (slot, length);
            if (slot.Active is null && length > bestFreeLength) (bestFree, bestFreeLength) = (slot, length);
        }

        Slot primary;
        int reused;
        if (bestAny is { Active: not null } && bestAnyLength > bestFreeLength)
        {
            // The prefix is resident in a busy sequence: share its cells with a free slot.
            primary = LeastRecentlyUsed(free, except: null);
            Clear(primary);
            _context.NativeHandle.MemorySequenceCopy(bestAny.Id, primary.Id, 0, bestAnyLength);
            primary.Tokens.AddRange(bestAny.Tokens.Take(bestAnyLength));
            reused = bestAnyLength;
        }
        else if (bestFree is not null)
        {
            primary = bestFree;
            Truncate(primary, bestFreeLength);
            reused = bestFreeLength;
        }
        else
        {
            primary = LeastRecentlyUsed(free, except: null);
            Clear(primary);
            reused = 0;
        }

        job.ReusedTokens = reused;
        job.Remaining = job.Request.Candidates;
        job.Sequences = new Sequence[job.Request.Candidates];
        for (var i = 0; i < job.Request.Candidates; i++)
        {
            var slot = i == 0 ? primary : LeastRecentlyUsed(free, except: job.Sequences.Take(i).Select(s => s.Slot).ToHashSet());
            if (i > 0) Clear(slot);
            slot.Partition = partition;
            var seq = new Sequence(job, i, slot, job.Samplers[i],
                new StreamingTokenDecoder(Encoding.UTF8, _weights), new StopSequenceMatcher(job.Request.StopSequences))
            {
                State = i == 0 ? SequenceState.Prefill : SequenceState.AwaitingFork,
                PromptOffset = reused,
            };
            slot.Active = seq;
            slot.LastUsed = ++_tick;
            job.Sequences[i] = seq;
        }
    }

    private static Slot LeastRecentlyUsed(List<Slot> free, HashSet<Slot>? except)
    {
        Slot? best = null;
        foreach (var s in free)
        {
            if (s.Active is not null || (except?.Contains(s) ?? false)) continue;
            if (best is null || s.LastUsed < best.LastUsed) best = s;
        }
        return best ?? throw new InvalidOperationException("No free slot.");
    }

    private void Step(LLamaBatch batch)
    {
        batch.Clear();
        var budget = _options.BatchSize;

        foreach (var slot in _slots)
            if (slot.Active is { } seq && seq.Job.CancellationToken.IsCancellationRequested)
                ReleaseJob(seq.Job, last: null);
        CollectDraws();

        // Generating sequences first, one token each; prompts share what is left, oldest first.
        foreach (var slot in _slots)
        {
            if (slot.Active is not { State: SequenceState.Decoding } seq) continue;
            seq.LogitIndex = -1;
            seq.Pending = 0;
            if (budget == 0) continue;
            seq.LogitIndex = batch.TokenCount;
            batch.Add(seq.LastToken, slot.Tokens.Count, slot.Id, true);
            seq.Pending = 1;
            budget--;
        }

        foreach (var slot in _slots.Where(s => s.Active is { State: SequenceState.Prefill }).OrderBy(s => s.LastUsed))
        {
            var seq = slot.Active!;
            seq.LogitIndex = -1;
            seq.Pending = 0;
            if (budget == 0) continue;
            var prompt = seq.Job.Request.PromptTokens;
            var count = Math.Min(budget, prompt.Count - seq.PromptOffset);
            for (var k = 0; k < count; k++)
            {
                var last = seq.PromptOffset + k == prompt.Count - 1;
                if (last) seq.LogitIndex = batch.TokenCount;
                batch.Add(prompt[seq.PromptOffset + k], slot.Tokens.Count + k, slot.Id, last);
            }
            seq.Pending = count;
            budget -= count;
        }

        if (batch.TokenCount == 0)
        {
            WaitForDraws();
            return;
        }

        var result = _context.NativeHandle.Decode(batch);
        if (result != DecodeResult.Ok)
        {
            FailAll($"llama.cpp could not decode the batch ({result}).");
            return;
        }

        foreach (var slot in _slots)
        {
            if (slot.Active is not { Pending: > 0 } seq) continue;
            if (seq.State == SequenceState.Decoding)
            {
                slot.Tokens.Add((int)seq.LastToken);
                continue;
            }
            var prompt = seq.Job.Request.PromptTokens;
            for (var k = 0; k < seq.Pending; k++) slot.Tokens.Add(prompt[seq.PromptOffset + k]);
            seq.PromptOffset += seq.Pending;
            Interlocked.Add(ref _promptTokensComputed, seq.Pending);
        }

        // Collected first: completing a prompt starts its forked candidates, which must not be sampled twice.
        var ready = _slots.Select(s => s.Active).Where(s => s is { LogitIndex: >= 0 }).ToList();
        foreach (var seq in ready)
        {
            if (seq!.Slot.Active != seq) continue;
            if (seq.State == SequenceState.Prefill)
                CompletePrompt(seq);
            else
                SampleNext(seq);
        }
    }

    /// <summary>The prompt is in the KV cache: fork it to the other candidates and draw every candidate's first token.</summary>
    private void CompletePrompt(Sequence primary)
    {
        var job = primary.Job;
        Interlocked.Add(ref _promptTokensReused, job.ReusedTokens);
        job.Output.Writer.TryWrite(new PromptProcessed(job.Request.PromptTokens.Count, job.ReusedTokens));
        foreach (var seq in job.Sequences)
        {
            if (seq != primary)
            {
                _context.NativeHandle.MemorySequenceCopy(primary.Slot.Id, seq.Slot.Id, 0, -1);
                seq.Slot.Tokens.AddRange(primary.Slot.Tokens);
            }
            seq.State = SequenceState.Decoding;
            seq.LogitIndex = primary.LogitIndex;
        }
        foreach (var seq in job.Sequences)
            if (seq.Slot.Active == seq)
                SampleNext(seq);
    }

    private void SampleNext(Sequence seq)
    {
        if (seq.Sampler.HasGrammar)
        {
            StartDraw(seq);
            return;
        }
        LLamaToken token;
        var forced = seq.Forced.Count > 0;
        if (forced)
        {
            // A forced token (the end of a thought past its budget) still goes through the samplers' history.
            token = seq.Forced.Dequeue();
            seq.Sampler.Accept(token);
        }
        else
        {
            // llama_sampler_sample also accepts the token into every sampler (grammar, penalties); accepting it
            // again would double-count penalties and push a grammar past its own state (a native abort).
            token = seq.Sampler.Sample(_context.NativeHandle, seq.LogitIndex);
        }
        Accepted(seq, token, forced);
    }

    /// <summary>
    /// Hands a grammar-constrained draw to a grammar worker thread with a copy of the logits (the next decode overwrites the
    /// context's), and takes the sequence out of the batches until <see cref="CollectDraws"/> sees its token.
    /// </summary>
    private void StartDraw(Sequence seq)
    {
        var logits = _context.NativeHandle.GetLogitsIth(seq.LogitIndex);
        seq.Logits ??= new float[logits.Length];
        logits.CopyTo(seq.Logits);
        // Out of the batches until the token is drawn: nothing pending, no logits to read.
        seq.LogitIndex = -1;
        seq.Pending = 0;
        seq.State = SequenceState.Drawing;
        seq.DrawStarted = Stopwatch.GetTimestamp();
        LLamaToken? forced = seq.Forced.Count > 0 ? seq.Forced.Dequeue() : null;
        seq.DrawForced = forced is not null;
        var sampler = seq.Sampler;
        var copy = seq.Logits;
        Interlocked.Increment(ref _runningDraws);
        seq.Draw = _grammarWorkers.Run(() =>
        {
            try
            {
                if (forced is { } token)
                {
                    sampler.Accept(token);
                    return token;
                }
                return sampler.Sample(copy);
            }
            finally
            {
                Interlocked.Decrement(ref _runningDraws);
            }
        });
        // Woken only once the task is complete: a signal from inside it could arrive before CollectDraws can see it.
        seq.Draw.ContinueWith(static (_, wake) => ((ManualResetEventSlim)wake!).Set(), _wake,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Applies finished draws, and fails the requests whose draw has outlasted the grammar budget.</summary>
    private void CollectDraws()
    {
        foreach (var slot in _slots)
        {
            if (slot.Active is not { State: SequenceState.Drawing } seq) continue;
            var draw = seq.Draw!;
            if (draw.IsCompletedSuccessfully)
            {
                seq.Draw = null;
                seq.State = SequenceState.Decoding;
                Accepted(seq, draw.Result, seq.DrawForced);
            }
            else if (draw.IsCompleted)
            {
                _logger.LogError(draw.Exception, "A grammar-constrained draw failed for model {Model}", _modelId);
                ReleaseJob(seq.Job, new GenerationFailed("The engine failed while applying the response grammar: " + draw.Exception?.GetBaseException().Message));
            }
            else if (Stopwatch.GetElapsedTime(seq.DrawStarted) > _options.GrammarStepTimeout)
            {
                Interlocked.Increment(ref _abandonedDraws);
                draw.ContinueWith(_ => Interlocked.Decrement(ref _abandonedDraws), TaskScheduler.Default);
                _logger.LogWarning("A grammar-constrained draw for model {Model} took longer than {Timeout}; its request fails", _modelId, _options.GrammarStepTimeout);
                ReleaseJob(seq.Job, new GenerationFailed(
                    $"The specified schema produces a constraint that is too costly to enforce: choosing one token took longer than {_options.GrammarStepTimeout.TotalSeconds:0.###} s. " +
                    "Simplify the schema: fewer nested anyOf/oneOf alternatives that begin alike, shorter enums, smaller length limits.", ByRequest: true));
            }
        }
    }

    /// <summary>
    /// Nothing to decode while draws run: sleep until one finishes, a request arrives, or a budget runs out, and at
    /// most <see cref="DrawPoll"/>, so a cancelled request is released promptly.
    /// </summary>
    private void WaitForDraws()
    {
        var wait = DrawPoll;
        foreach (var slot in _slots)
            if (slot.Active is { State: SequenceState.Drawing } seq)
            {
                var left = _options.GrammarStepTimeout - Stopwatch.GetElapsedTime(seq.DrawStarted);
                if (left < wait) wait = left;
            }
        _wake.Wait(wait < TimeSpan.Zero ? TimeSpan.Zero : wait + TimeSpan.FromMilliseconds(1));
        _wake.Reset();
    }

    /// <summary>A token was chosen for <paramref name="seq"/>: stream it and decide whether the sequence goes on.</summary>
    private void Accepted(Sequence seq, LLamaToken token, bool forced)
    {
        seq.LastToken = token;
        Interlocked.Increment(ref _tokensGenerated);

        if (token == _bos || token.IsEndOfGeneration(_weights.Vocab))
        {
            Finish(seq, FinishCause.EndOfText);
            return;
        }

        seq.OutputTokens++;
        var wasThinking = seq.Phase == ThoughtPhase.Thinking;
        TrackThought(seq, (int)token);
        // Thought tokens (and the marker that ends a thought) are not part of the answer, so they report no logprobs.
        if (seq.Job.Request.TopLogprobs is { } top && !forced && !wasThinking && seq.Phase != ThoughtPhase.Thinking)
        {
            // The logits the token was drawn from are still in place: sampling works on a copy.
            // Logits were copied for a draw made off this thread; otherwise they are still in place in the context.
            ReadOnlySpan<float> logits = seq.Logits ?? _context.NativeHandle.GetLogitsIth(seq.LogitIndex);
            var (chosen, alternatives) = Logprobs.Compute(logits, (int)token, top, _weights.NativeHandle);
            seq.Job.Output.Writer.TryWrite(new TokenLogprobsComputed(seq.Candidate, chosen, alternatives));
        }
        seq.Decoder.Add(token);
        var safe = seq.Stops.Push(seq.Decoder.Read());
        if (safe.Length > 0)
            seq.Job.Output.Writer.TryWrite(new TextGenerated(seq.Candidate, safe));

        if (seq.Stops.Stopped)
            Finish(seq, FinishCause.StopSequence);
        else if (seq.OutputTokens >= seq.Job.Request.MaxOutputTokens)
            Finish(seq, FinishCause.MaxOutputTokens);
        else if (seq.Slot.Tokens.Count >= _options.ContextPerSequence)
            Finish(seq, FinishCause.ContextFull);
    }

    /// <summary>Counts thought tokens and forces the end marker once the budget is spent.</summary>
    private static void TrackThought(Sequence seq, int token)
    {
        if (seq.Job.Request.Thinking is not { } thinking) return;
        seq.Recent.Add(token);
        if (seq.Recent.Count > 64) seq.Recent.RemoveAt(0);
        switch (seq.Phase)
        {
            case ThoughtPhase.Before when EndsWith(seq.Recent, thinking.StartTokens):
                seq.Phase = ThoughtPhase.Thinking;
                seq.ThoughtTokens = seq.OutputTokens;
                break;
            case ThoughtPhase.Before when seq.OutputTokens > thinking.StartTokens.Count + 2:
                seq.Phase = ThoughtPhase.Answer;
                return;
            case ThoughtPhase.Thinking:
                seq.ThoughtTokens++;
                if (EndsWith(seq.Recent, thinking.EndTokens))
                {
                    seq.Phase = ThoughtPhase.Answer;
                    seq.Forced.Clear();
                    return;
                }
                break;
            default:
                return;
        }
        if (seq.Phase == ThoughtPhase.Thinking && thinking.Budget >= 0 && seq.ThoughtTokens >= thinking.Budget && seq.Forced.Count == 0)
            foreach (var t in thinking.EndTokens) seq.Forced.Enqueue(t);
    }

    private static bool EndsWith(List<int> recent, IReadOnlyList<int> marker)
    {
        if (marker.Count == 0 || recent.Count < marker.Count) return false;
        for (var i = 0; i < marker.Count; i++)
            if (recent[recent.Count - marker.Count + i] != marker[i]) return false;
        return true;
    }

    private void Finish(Sequence seq, FinishCause cause)
    {
        var rest = seq.Stops.Flush();
        if (rest.Length > 0)
            seq.Job.Output.Writer.TryWrite(new TextGenerated(seq.Candidate, rest));
        seq.Job.Output.Writer.TryWrite(new GenerationFinished(seq.Candidate, cause, seq.OutputTokens, seq.ThoughtTokens));
        Detach(seq);
        if (--seq.Job.Remaining == 0)
            seq.Job.Complete();
    }

    /// <summary>Frees a sequence's slot; the slot keeps its resident tokens for later prefix reuse.</summary>
    private static void Detach(Sequence seq)
    {
        if (seq.Slot.Active != seq) return;
        seq.Slot.Active = null;
        if (seq.State == SequenceState.AwaitingFork)
            seq.Slot.Tokens.Clear();
    }

    private static void ReleaseJob(Job job, EngineEvent? last)
    {
        foreach (var seq in job.Sequences) Detach(seq);
        if (last is not null) job.Output.Writer.TryWrite(last);
        job.Complete();
    }

    private void FailAll(string message)
    {
        foreach (var slot in _slots)
            if (slot.Active is { } seq)
                ReleaseJob(seq.Job, new GenerationFailed(message));
        // After a failed decode the cache's contents are unknown; start clean.
        _context.NativeHandle.MemoryClear(true);
        foreach (var slot in _slots) slot.Tokens.Clear();
    }

    private void Clear(Slot slot)
    {
        _context.NativeHandle.MemorySequenceRemove(slot.Id, -1, -1);
        slot.Tokens.Clear();
    }

    private void Truncate(Slot slot, int keep)
    {
        _context.NativeHandle.MemorySequenceRemove(slot.Id, keep, -1);
        slot.Tokens.RemoveRange(keep, slot.Tokens.Count - keep);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _queue.Writer.TryComplete();
        _wake.Set();
        _thread.Join(TimeSpan.FromSeconds(10));
        // A draw still inside llama.cpp uses the model's vocabulary: the weights must outlive it.
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 120;
        while (Volatile.Read(ref _runningDraws) > 0 && Stopwatch.GetTimestamp() < deadline)
            Thread.Sleep(10);
        _grammarWorkers.Dispose();
        _stopping.Dispose();
    }

    private sealed class Job(EngineRequest request, Channel<EngineEvent> output, CancellationToken cancellationToken,
        TokenSampler[] samplers, Action onCompleted)
    {
        private int _completed;

        public TokenSampler[] Samplers { get; } = samplers;

        /// <summary>Ends the request's stream, frees its samplers and gives its place back, once.</summary>
        public void Complete()
        {
            if (Interlocked.Exchange(ref _completed, 1) == 1) return;
            Output.Writer.TryComplete();
            for (var i = 0; i < Samplers.Length; i++)
            {
                var sampler = Samplers[i];
                // A draw still running on a grammar worker owns its sampler until llama.cpp returns.
                if (i < Sequences.Length && Sequences[i].Draw is { IsCompleted: false } draw)
                    draw.ContinueWith(_ => sampler.Dispose(), TaskScheduler.Default);
                else
                    sampler.Dispose();
            }
            onCompleted();
        }

        public EngineRequest Request { get; } = request;
        public Channel<EngineEvent> Output { get; } = output;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public Sequence[] Sequences { get; set; } = [];
        public int Remaining { get; set; }
        public int ReusedTokens { get; set; }
    }

    /// <summary>A llama sequence id and the tokens whose KV it holds (kept after its request ends).</summary>
    private sealed class Slot(LLamaSeqId id)
    {
        public LLamaSeqId Id { get; } = id;
        public List<int> Tokens { get; } = [];

        /// <summary>The <see cref="EngineRequest.PrefixPartition"/> whose tokens <see cref="Tokens"/> are.</summary>
        public string Partition { get; set; } = "";
        public Sequence? Active { get; set; }
        public long LastUsed { get; set; }

        public int CommonPrefix(IReadOnlyList<int> prompt)
        {
            var n = Math.Min(Tokens.Count, prompt.Count);
            var i = 0;
            while (i < n && Tokens[i] == prompt[i]) i++;
            return i;
        }
    }

    private enum SequenceState { Prefill, AwaitingFork, Decoding, Drawing }

    private enum ThoughtPhase { Before, Thinking, Answer }

    private sealed class Sequence(Job job, int candidate, Slot slot, TokenSampler sampler, StreamingTokenDecoder decoder, StopSequenceMatcher stops)
    {
        public Job Job { get; } = job;
        public int Candidate { get; } = candidate;
        public Slot Slot { get; } = slot;
        public TokenSampler Sampler { get; } = sampler;
        public StreamingTokenDecoder Decoder { get; } = decoder;
        public StopSequenceMatcher Stops { get; } = stops;
        public SequenceState State { get; set; }
        public int PromptOffset { get; set; }
        public int Pending { get; set; }
        public int OutputTokens { get; set; }
        public int LogitIndex { get; set; } = -1;
        public LLamaToken LastToken { get; set; }
        public ThoughtPhase Phase { get; set; } = job.Request.Thinking switch
        {
            null => ThoughtPhase.Answer,
            { StartsInThought: true } => ThoughtPhase.Thinking,
            _ => ThoughtPhase.Before,
        };
        public int ThoughtTokens { get; set; }
        public List<int> Recent { get; } = [];
        public Queue<LLamaToken> Forced { get; } = new();

        /// <summary>A grammar-constrained draw running on a grammar worker thread, on <see cref="Logits"/>.</summary>
        public Task<LLamaToken>? Draw { get; set; }
        public long DrawStarted { get; set; }
        public bool DrawForced { get; set; }
        public float[]? Logits { get; set; }
    }
}
