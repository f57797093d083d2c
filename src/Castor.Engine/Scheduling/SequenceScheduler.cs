using System.Diagnostics;
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
/// every step decodes one token for each generating sequence plus a chunk of pending prompts, in one batch
/// (<see cref="BatchPlanner"/>), so requests join and leave at token boundaries and a long prompt cannot stall other
/// streams. Work arrives through an <see cref="AdmissionQueue"/> (generation requests by priority, and commands on the
/// cache such as <see cref="ReleaseIdlePrefixesAsync"/>).
/// <para>
/// Each slot (llama sequence id, <see cref="SlotTable"/>) keeps the positions it last held after its request ends, and
/// a new request starts from the longest resident prefix of its prompt (<see cref="PrefixCache"/>). Candidates of
/// one request fork the prompt's KV after it is computed once.
/// </para>
/// <para>
/// Grammar-constrained draws run off this thread, on a copy of their logits: grammar work grows with the ambiguity
/// of the grammar and cannot be interrupted inside llama.cpp, so one costly schema must not stall every other stream.
/// The sequence sits out the batches until its token is drawn; a draw that outlasts
/// <see cref="SchedulerOptions.GrammarStepTimeout"/> fails its request alone.
/// </para>
/// <para>
/// The steady decode loop allocates nothing of its own per token: what a token costs on this thread is the text it
/// adds and the event carrying it (<see cref="AllocationMeter"/> measures it).
/// </para>
/// </summary>
public sealed class SequenceScheduler : IDisposable
{
    private readonly string _modelId;
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly SchedulerOptions _options;
    private readonly ILogger _logger;
    private readonly AdmissionQueue _queue = new();
    private readonly SlotTable _slots;
    private readonly BatchPlanner _planner;
    private readonly MediaEvaluator _media;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;
    private readonly LLamaToken _bos;
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly StepAbort _abort = new();
    private readonly bool _canAbort;
    private long _preemptions;
    private long _stepsAborted;
    private int _forcedAborts;
    private bool _lastStepAborted;
    private readonly GrammarWorkers _grammarWorkers;
    private readonly Lock _meterGate = new();
    private readonly TokenPieces _pieces;
    /// <summary>Candidate 0's text event for each shared token string: immutable, so one instance serves every stream.</summary>
    private readonly TextGenerated?[] _wholeTokenEvents;
    private int _abandonedDraws;
    private int _runningDraws;
    private static readonly TimeSpan DrawPoll = TimeSpan.FromMilliseconds(50);
    private long _tokensGenerated;
    private int _jobsInFlight;
    private int _jobsRunning;
    private long _promptTokensComputed;
    private long _promptTokensReused;
    private long _meterBytes;
    private long _meterTokens;
    private long _mediaCredit;

    /// <summary>
    /// While sequences are generating, media steps may take one part in <see cref="MediaShare"/> of the scheduler's
    /// time: each decode batch earns them a share of its duration, each media step spends what it took, and none runs in
    /// debt. Other streams then keep about 5/6 of their speed however many images arrive; the images wait instead.
    /// </summary>
    private const int MediaShare = 6;
    private static readonly long MaxMediaCredit = System.Diagnostics.Stopwatch.Frequency / 4;

    public SequenceScheduler(string modelId, LLamaWeights weights, LLamaContext context, SchedulerOptions options, ILogger logger)
    {
        _modelId = modelId;
        _weights = weights;
        _context = context;
        _options = options;
        _logger = logger;
        _bos = weights.Vocab.BOS ?? LLamaToken.InvalidToken;
        _slots = new SlotTable(options.Parallel);
        _planner = new BatchPlanner(_slots, options.BatchSize);
        Prefixes = new PrefixCache(context.NativeHandle, _slots);
        _media = new MediaEvaluator(context.NativeHandle, _slots, options.BatchSize, weights.EmbeddingSize);
        Snapshots = new SnapshotSteps(context.NativeHandle, _slots, Prefixes, options.BatchSize);
        _grammarWorkers = new GrammarWorkers(modelId);
        _canAbort = _abort.Install(context.NativeHandle);
        _pieces = new TokenPieces(weights.NativeHandle, weights.Vocab.Count);
        _wholeTokenEvents = new TextGenerated?[weights.Vocab.Count];
        _thread = new Thread(Run) { IsBackground = true, Name = $"castor-scheduler-{modelId}" };
        _thread.Start();
        Diagnostics.EngineMetrics.Add(this, modelId);
    }

    public SchedulerOptions Options => _options;

    internal PrefixCache Prefixes { get; }

    internal SnapshotSteps Snapshots { get; }

    /// <summary>Prefix snapshots restored into a sequence instead of computing their tokens, and the tokens they held.</summary>
    public long SnapshotsRestored => Snapshots.Restored;
    public long SnapshotTokensRestored => Snapshots.RestoredTokens;

    /// <summary>Decode steps of batch work alone that were stopped because interactive work arrived (<see cref="StepAbort"/>).</summary>
    internal long StepsAborted => Interlocked.Read(ref _stepsAborted);

    /// <summary>
    /// Tests: abort this many of the coming batch-only steps (every other one, on the scheduler thread), as interactive
    /// arrivals would, without depending on when a request arrives. Set before the steps run.
    /// </summary>
    internal void ForceAborts(int count) => Volatile.Write(ref _forcedAborts, count);

    /// <summary>Batch sequences that gave their slot to interactive work, to resume later (<see cref="Preempt"/>).</summary>
    internal long Preemptions => Interlocked.Read(ref _preemptions);

    /// <summary>Sequences currently generating.</summary>
    public int ActiveSequences => _slots.ActiveCount;

    /// <summary>Requests accepted but not yet given sequences (waiting in the admission queue).</summary>
    public int QueuedRequests => Math.Max(0, Volatile.Read(ref _jobsInFlight) - Volatile.Read(ref _jobsRunning));

    /// <summary>
    /// KV cells holding a token, in running sequences and in prompts kept resident for reuse. Read from another thread
    /// while the scheduler works: each slot's count is one field read, so the sum is a moment's approximation, as a gauge is.
    /// </summary>
    public int KvCellsUsed
    {
        get
        {
            var n = 0;
            foreach (var slot in _slots.All) n += slot.Resident.Count;
            return n;
        }
    }

    /// <summary>KV cells of the context: parallel sequences × context per sequence.</summary>
    public int KvCellsTotal => _options.Parallel * _options.ContextPerSequence;

    /// <summary>Grammar-constrained draws inside llama.cpp right now, abandoned ones (past their budget) included.</summary>
    public int GrammarDrawsRunning => Volatile.Read(ref _runningDraws);

    /// <summary>Tokens sampled since start, across all sequences.</summary>
    public long TokensGenerated => Interlocked.Read(ref _tokensGenerated);

    /// <summary>Prompt tokens that were decoded, and those that were found resident and skipped.</summary>
    public long PromptTokensComputed => Interlocked.Read(ref _promptTokensComputed);
    public long PromptTokensReused => Interlocked.Read(ref _promptTokensReused);

    /// <summary>
    /// Bytes the scheduler thread had allocated (<see cref="GC.GetAllocatedBytesForCurrentThread"/>) when it began
    /// handling its latest sampled token, and how many tokens had been sampled before it: the difference between two
    /// readings is what those tokens cost in garbage on the decode loop's thread.
    /// </summary>
    public (long Bytes, long Tokens) AllocationMeter
    {
        get
        {
            lock (_meterGate) return (_meterBytes, _meterTokens);
        }
    }

    /// <summary>
    /// Queues a request. Throws <see cref="EngineOverloadedException"/> at once when the wait queue is full.
    /// The reader completes after every candidate's <see cref="GenerationFinished"/> (or a <see cref="GenerationFailed"/>),
    /// or silently when <paramref name="cancellationToken"/> fires; cancelling frees the sequences at the next step.
    /// </summary>
    public ChannelReader<EngineEvent> Submit(EngineRequest request, CancellationToken cancellationToken)
    {
        if (request.Prompt.Length == 0)
            throw new ArgumentException("A prompt needs at least one token.", nameof(request));
        // Every token takes a KV cell, and an M-RoPE image holds more cells than positions: the window is in cells.
        if (request.Prompt.TokenCount >= _options.ContextPerSequence)
            throw new ArgumentException("The prompt does not fit the context window.", nameof(request));
        if (request.Candidates < 1 || request.Candidates > _options.Parallel)
            throw new ArgumentOutOfRangeException(nameof(request), $"Candidates must be between 1 and {_options.Parallel} (the parallel sequences of this model).");
        // A placeholder that no projector prepared can be matched but not evaluated: refused rather than decoded wrong.
        if (request.Prompt.HasMedia && request.Prompt.Chunks.Any(c => c is MediaPlaceholder { Input: null }))
            throw new NotSupportedException("The prompt has media that no projector of this model prepared.");

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
        GenerationJob job = null!;
        job = new GenerationJob(request, output, samplers, () =>
        {
            // A job that got sequences counted as running (TryStart); one cancelled while queued did not.
            if (job.Sequences.Length > 0) Interlocked.Decrement(ref _jobsRunning);
            Interlocked.Decrement(ref _jobsInFlight);
        }, cancellationToken);
        if (_stopping.IsCancellationRequested)
        {
            job.Complete();
            throw new EngineOverloadedException(_modelId);
        }
        Enqueue(job);
        return output.Reader;
    }

    /// <summary>
    /// Drops the prompts that idle sequences keep resident for reuse (of one <see cref="EngineRequest.PrefixPartition"/>,
    /// or every partition's when null), freeing their KV cells; completes with the number of positions freed. It runs on
    /// the scheduler thread between steps, in admission order.
    /// </summary>
    public Task<int> ReleaseIdlePrefixesAsync(string? partition = null, EnginePriority priority = EnginePriority.Interactive,
        CancellationToken cancellationToken = default)
    {
        var command = new ReleaseIdlePrefixesCommand(partition, priority, cancellationToken);
        if (_stopping.IsCancellationRequested)
        {
            command.Abandon();
            return command.Completion;
        }
        Enqueue(command);
        return command.Completion;
    }

    /// <summary>
    /// Computes the KV of <paramref name="tokens"/> in a free sequence of <paramref name="partition"/> (what is resident
    /// already is reused) and returns that sequence's state, to restore later in place of decoding those tokens. It
    /// runs on the scheduler thread between steps, in admission order, once a sequence is free.
    /// </summary>
    public Task<PrefixSnapshot> SavePrefixSnapshotAsync(IReadOnlyList<int> tokens, string partition = "",
        EnginePriority priority = EnginePriority.Interactive, CancellationToken cancellationToken = default)
    {
        if (tokens.Count == 0 || tokens.Count >= _options.ContextPerSequence)
            throw new ArgumentException($"A snapshot holds between 1 and {_options.ContextPerSequence - 1} tokens.", nameof(tokens));
        var command = new SaveSnapshotCommand(tokens, partition, priority, cancellationToken);
        if (_stopping.IsCancellationRequested)
        {
            command.Abandon();
            return command.Completion;
        }
        Enqueue(command);
        return command.Completion;
    }

    private void Enqueue(WorkItem item)
    {
        _queue.Enqueue(item);
        // Queued before the abort is asked for: the scheduler, on its way back from an aborted step, finds it.
        if (item.Priority == EnginePriority.Interactive) _abort.Request();
        _wake.Set();
    }

    private void Run()
    {
        var batch = new DecodeBatch(_options.BatchSize);
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                Admit();
                if (_slots.ActiveCount == 0)
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
        while (_queue.TryDequeue(out var item))
            item!.Abandon();
    }

    private void WaitForWork()
    {
        // Reset before looking, so a Submit between the look and the wait still wakes this thread.
        _wake.Reset();
        if (_queue.Peek() is not null) return;
        try
        {
            _wake.Wait(_stopping.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Starts queued work, by priority and then in arrival order, while the head of the queue can start.</summary>
    private void Admit()
    {
        while (_queue.Peek() is { } head)
        {
            if (head.IsCancelled)
            {
                _queue.Remove(head);
                head.Abandon();
                continue;
            }
            if (!head.TryStart(this))
            {
                // Interactive work takes the sequences of batch work when none is free: batch yields within one step.
                if (head is not GenerationJob { Priority: EnginePriority.Interactive } job
                    || !Preempt(job.Request.Candidates - _slots.FreeCount) || !head.TryStart(this))
                    return;
            }
            _queue.Remove(head);
        }
    }

    /// <summary>
    /// Frees <paramref name="needed"/> slots by preempting batch sequences, those with the fewest positions first (the
    /// cheapest to recompute); false, and nothing preempted, when not enough can be. Only single-candidate text-only
    /// requests that are computing their prompt or generating are preempted: such a sequence is whole in its
    /// <see cref="Sequence"/> (sampler, text decoder, stop matcher, counts) and in its slot's resident keys, so it
    /// resumes exactly where it stopped by recomputing those positions (<see cref="Resume"/>): the same tokens as a run
    /// that was never preempted.
    /// </summary>
    private bool Preempt(int needed)
    {
        if (needed <= 0) return false;
        var available = 0;
        foreach (var slot in _slots.All)
            if (slot.Active is { } seq && Preemptible(seq)) available++;
        if (available < needed) return false;
        for (var i = 0; i < needed; i++)
        {
            Sequence? victim = null;
            foreach (var slot in _slots.All)
                if (slot.Active is { } seq && Preemptible(seq) && (victim is null || slot.Resident.Count < victim.Slot.Resident.Count))
                    victim = seq;
            // A generating sequence's slot holds its prompt and every token but the newest (which the next step decodes).
            if (victim!.State == SequenceState.Decoding)
                victim.ReplayKeys = [.. victim.Slot.Resident];
            victim.State = SequenceState.Prefill;
            victim.Pending = 0;
            victim.LogitIndex = -1;
            victim.Slot.Active = null;
            victim.Job.Preempted = true;
            Interlocked.Increment(ref _preemptions);
            // Queued directly: it is batch work and must not abort a step.
            _queue.Enqueue(victim.Job);
        }
        return true;
    }

    private static bool Preemptible(Sequence seq) =>
        seq.Job.Priority == EnginePriority.Batch && seq.Job.Sequences.Length == 1 && !seq.Job.Request.Prompt.HasMedia
        && seq.State is SequenceState.Decoding or SequenceState.Prefill;

    /// <summary>Gives a preempted sequence a free slot again, reusing what of its positions is still resident anywhere.</summary>
    private bool Resume(GenerationJob job)
    {
        if (_slots.FreeCount == 0) return false;
        var seq = job.Sequences[0];
        var partition = job.Request.PrefixPartition;
        var (slot, reused) = Prefixes.Claim(job.Request.Prompt, seq.PrefillKeys, partition);
        slot.Partition = partition;
        seq.Slot = slot;
        seq.PromptOffset = reused;
        if (seq.ReplayKeys is null) job.ReusedTokens = reused;
        job.Preempted = false;
        _slots.Attach(slot, seq);
        return true;
    }

    /// <summary>Starts a generation when enough slots are free for its candidates; false leaves it waiting.</summary>
    internal bool TryStart(GenerationJob job)
    {
        if (job.Preempted) return Resume(job);
        var candidates = job.Request.Candidates;
        if (_slots.FreeCount < candidates) return false;
        var partition = job.Request.PrefixPartition;
        if (job.Request.Snapshot is { } snapshot)
            Snapshots.RestoreIfUseful(snapshot, job.Request.Prompt, job.PromptKeys, partition);
        var (primary, reused) = Prefixes.Claim(job.Request.Prompt, job.PromptKeys, partition);

        job.ReusedTokens = reused;
        job.Remaining = candidates;
        job.Sequences = new Sequence[candidates];
        for (var i = 0; i < candidates; i++)
        {
            var slot = i == 0 ? primary : _slots.LeastRecentlyUsedFree();
            if (i > 0) Prefixes.Clear(slot);
            slot.Partition = partition;
            var seq = new Sequence(job, i, slot, job.Samplers[i],
                new TokenTextDecoder(_weights.NativeHandle, _pieces), new StopSequenceMatcher(job.Request.StopSequences))
            {
                State = i == 0 ? SequenceState.Prefill : SequenceState.AwaitingFork,
                PromptOffset = reused,
            };
            _slots.Attach(slot, seq);
            job.Sequences[i] = seq;
        }
        Interlocked.Increment(ref _jobsRunning);
        job.Output.Writer.TryWrite(GenerationStarted.Instance);
        return true;
    }

    private void Step(DecodeBatch batch)
    {
        foreach (var slot in _slots.All)
            if (slot.Active is { } seq && seq.Job.CancellationToken.IsCancellationRequested)
                ReleaseJob(seq.Job, last: null);
        CollectDraws();

        _planner.Plan(batch);
        if (batch.TokenCount == 0)
        {
            if (!EvaluateMedia()) WaitForDraws();
            return;
        }

        // A step of batch work alone may be stopped by interactive work arriving while it decodes (StepAbort): armed
        // only while no interactive work waits, since work that waits could not start (no sequence for it) and
        // stopping for it again and again would stall the batch. Work that arrived since Admit is admitted first.
        var abortable = _canAbort && _planner.OnlyBatchWork && !_queue.Any(EnginePriority.Interactive);
        if (abortable)
        {
            _abort.Arm();
            if (!_lastStepAborted && Volatile.Read(ref _forcedAborts) > 0)
            {
                Interlocked.Decrement(ref _forcedAborts);
                _abort.Request();
            }
            if (_queue.Any(EnginePriority.Interactive))
            {
                _abort.Disarm();
                return;
            }
        }
        var started = Stopwatch.GetTimestamp();
        var result = batch.DecodeWith(_context.NativeHandle);
        if (abortable) _abort.Disarm();
        _lastStepAborted = result == DecodeResult.ComputeAborted && abortable;
        if (_lastStepAborted)
        {
            RollBack();
            return;
        }
        _mediaCredit = Math.Min(MaxMediaCredit, _mediaCredit + (Stopwatch.GetTimestamp() - started) / (MediaShare - 1));
        if (result != DecodeResult.Ok)
        {
            FailAll($"llama.cpp could not decode the batch ({result}).");
            return;
        }

        var computed = _planner.Commit(out var ready);
        if (computed > 0) Interlocked.Add(ref _promptTokensComputed, computed);
        foreach (var seq in ready)
        {
            if (seq.Slot.Active != seq) continue;
            if (seq.ReplayKeys is not null)
            {
                if (seq.PromptOffset < seq.ReplayKeys.Length) continue;
                // A preempted sequence recomputed what it had: it goes on from its newest token, drawn before it stopped.
                seq.ReplayKeys = null;
                seq.State = SequenceState.Decoding;
            }
            else if (seq.State == SequenceState.Prefill)
                CompletePrompt(seq);
            else
                SampleNext(seq);
        }
        // Every logit of the batch has been read: a media item can now be decoded on its own, within its share.
        if (!AnyGenerating())
        {
            // Nothing streams: media run freely, and owe nothing to streams that start later.
            _mediaCredit = Math.Max(_mediaCredit, 0);
            EvaluateMedia();
        }
        else if (_mediaCredit > 0)
            EvaluateMedia();
    }

    /// <summary>
    /// An aborted step: llama.cpp removed the aborted ubatch's positions; the positions of any ubatch it finished
    /// before are removed here, so every slot holds what its resident keys say. Nothing was committed or sampled: the
    /// same tokens go into a later step.
    /// </summary>
    private void RollBack()
    {
        Interlocked.Increment(ref _stepsAborted);
        foreach (var slot in _slots.All)
        {
            if (slot.Active is not { } seq) continue;
            if (seq.Pending > 0) Prefixes.Truncate(slot, slot.Resident.Count);
            seq.Pending = 0;
            seq.LogitIndex = -1;
        }
    }

    private bool AnyGenerating()
    {
        foreach (var slot in _slots.All)
            if (slot.Active is { State: SequenceState.Decoding or SequenceState.Drawing }) return true;
        return false;
    }

    /// <summary>
    /// Encodes the media item the longest-waiting prompt has reached, as a step of its own; false when no prompt waits
    /// at one. A prompt that ends with the item starts generating from its logits.
    /// </summary>
    private bool EvaluateMedia()
    {
        if (_media.Next() is not var (seq, media)) return false;
        var job = seq.Job;
        var last = seq.PromptOffset + media.Positions == job.PromptKeys.Length;
        var started = Stopwatch.GetTimestamp();
        var outcome = _media.Step(seq, media, last);
        _mediaCredit -= Stopwatch.GetTimestamp() - started;
        if (outcome == MediaEvaluator.Outcome.Failed)
        {
            ReleaseJob(job, new GenerationFailed($"The engine could not encode a media item ({media.MimeType}) of the prompt."));
            return true;
        }
        if (outcome == MediaEvaluator.Outcome.InProgress) return true;
        Interlocked.Add(ref _promptTokensComputed, media.Positions);
        if (last)
        {
            // The item's last slice asked for its final embedding's logits only.
            seq.LogitIndex = _media.LogitIndex;
            CompletePrompt(seq);
        }
        return true;
    }

    /// <summary>The prompt is in the KV cache: fork it to the other candidates and draw every candidate's first token.</summary>
    private void CompletePrompt(Sequence primary)
    {
        var job = primary.Job;
        Interlocked.Add(ref _promptTokensReused, job.ReusedTokens);
        // Counted in tokens, as usage reports them (an M-RoPE image has more tokens than positions).
        var prompt = job.Request.Prompt;
        job.Output.Writer.TryWrite(new PromptProcessed(prompt.TokenCount, prompt.TokensWithin(job.ReusedTokens)));
        foreach (var seq in job.Sequences)
        {
            if (seq != primary)
                Prefixes.CopyPrefix(primary.Slot, seq.Slot, -1);
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
        foreach (var slot in _slots.All)
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
                var cause = draw.Exception?.GetBaseException();
                ReleaseJob(seq.Job, new GenerationFailed("The engine failed while applying the response grammar: " +
                    (cause is null ? "the draw was cancelled." : $"{cause.GetType().Name}: {cause.Message}")));
            }
            else if (Stopwatch.GetElapsedTime(seq.DrawStarted) > _options.GrammarStepTimeout)
            {
                Interlocked.Increment(ref _abandonedDraws);
                draw.ContinueWith(_ => Interlocked.Decrement(ref _abandonedDraws), TaskScheduler.Default);
                _logger.LogWarning("A grammar-constrained draw for model {Model} took longer than {Timeout}; its request fails", _modelId, _options.GrammarStepTimeout);
                ReleaseJob(seq.Job, new GenerationFailed(
                    $"The specified schema produces a constraint that is too costly to enforce: choosing one token took longer than {_options.GrammarStepTimeout.TotalSeconds:0.###} s. " +
                    "Simplify the schema: fewer nested anyOf/oneOf alternatives that begin alike, shorter enums, smaller length limits.", ByRequest: true));
                Diagnostics.EngineMetrics.GrammarRefusals.Add(1, new KeyValuePair<string, object?>(Diagnostics.CastorDiagnostics.RequestModel, _modelId));
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
        foreach (var slot in _slots.All)
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
        lock (_meterGate)
        {
            _meterBytes = GC.GetAllocatedBytesForCurrentThread();
            _meterTokens = _tokensGenerated;
        }
        seq.LastToken = token;
        Interlocked.Increment(ref _tokensGenerated);

        if (token == _bos || token.IsEndOfGeneration(_weights.Vocab))
        {
            Finish(seq, FinishCause.EndOfText);
            return;
        }

        seq.OutputTokens++;
        var wasThinking = seq.Phase == ThoughtPhase.Thinking;
        ThoughtBudget.Track(seq, (int)token);
        // Thought tokens (and the marker that ends a thought) are not part of the answer, so they report no logprobs.
        if (seq.Job.Request.TopLogprobs is { } top && !forced && !wasThinking && seq.Phase != ThoughtPhase.Thinking)
        {
            // Logits were copied for a draw made off this thread; otherwise they are still in place in the context.
            ReadOnlySpan<float> logits = seq.Logits ?? _context.NativeHandle.GetLogitsIth(seq.LogitIndex);
            var (chosen, alternatives) = Logprobs.Compute(logits, (int)token, top, _weights.NativeHandle);
            seq.Job.Output.Writer.TryWrite(new TokenLogprobsComputed(seq.Candidate, chosen, alternatives));
        }
        var piece = seq.Decoder.Add(token);
        var safe = seq.Stops.Push(piece);
        if (safe.Length > 0)
        {
            // The token's own shared text, not held back or cut by a stop sequence: its shared event, no allocation.
            var shared = seq.Candidate == 0 && seq.Decoder.LastWasShared && ReferenceEquals(safe, piece);
            seq.Job.Output.Writer.TryWrite(shared
                ? _wholeTokenEvents[(int)token] ??= new TextGenerated(0, safe)
                : new TextGenerated(seq.Candidate, safe));
        }

        if (seq.Stops.Stopped)
            Finish(seq, FinishCause.StopSequence);
        else if (seq.OutputTokens >= seq.Job.Request.MaxOutputTokens)
            Finish(seq, FinishCause.MaxOutputTokens);
        else if (seq.Slot.Resident.Count + seq.Job.MediaExtraCells >= _options.ContextPerSequence)
            Finish(seq, FinishCause.ContextFull);
    }

    private static void Finish(Sequence seq, FinishCause cause)
    {
        var rest = seq.Stops.Flush();
        if (rest.Length > 0)
            seq.Job.Output.Writer.TryWrite(new TextGenerated(seq.Candidate, rest));
        seq.Job.Output.Writer.TryWrite(new GenerationFinished(seq.Candidate, cause, seq.OutputTokens, seq.ThoughtTokens));
        Detach(seq);
        if (--seq.Job.Remaining == 0)
            seq.Job.Complete();
    }

    /// <summary>Frees a sequence's slot; the slot keeps its resident positions for later prefix reuse.</summary>
    private static void Detach(Sequence seq)
    {
        if (seq.Slot.Active != seq) return;
        seq.Slot.Active = null;
        if (seq.State == SequenceState.AwaitingFork)
            seq.Slot.Resident.Clear();
    }

    private static void ReleaseJob(GenerationJob job, EngineEvent? last)
    {
        foreach (var seq in job.Sequences) Detach(seq);
        if (last is not null) job.Output.Writer.TryWrite(last);
        job.Complete();
    }

    private void FailAll(string message)
    {
        foreach (var slot in _slots.All)
            if (slot.Active is { } seq)
                ReleaseJob(seq.Job, new GenerationFailed(message));
        Prefixes.Reset();
    }

    public void Dispose()
    {
        Diagnostics.EngineMetrics.Remove(this);
        _stopping.Cancel();
        _wake.Set();
        _thread.Join(TimeSpan.FromSeconds(10));
        // Work queued while the thread was stopping would otherwise never hear back.
        while (_queue.TryDequeue(out var item))
            item!.Abandon();
        // A draw still inside llama.cpp uses the model's vocabulary: the weights must outlive it.
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 120;
        while (Volatile.Read(ref _runningDraws) > 0 && Stopwatch.GetTimestamp() < deadline)
            Thread.Sleep(10);
        _grammarWorkers.Dispose();
        _stopping.Dispose();
    }
}
