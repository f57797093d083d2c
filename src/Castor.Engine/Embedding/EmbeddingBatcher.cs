using System.Threading.Channels;
using Castor.Engine.Scheduling;
using Microsoft.Extensions.Logging;

namespace Castor.Engine.Embedding;

/// <summary>
/// The one thread that drives a backend's <see cref="IEmbeddingBackend.Compute"/>. It packs a request's texts into as
/// few runs as the backend's limits allow (a batch of 100 short texts is one or a few runs, not 100), and, when the
/// backend is <see cref="EmbeddingBatchLimits.BatchInvariant"/>, the texts of every request waiting at that moment too,
/// so concurrent single-text calls share runs. Runs go one at a time, or side by side when the backend allows
/// <see cref="EmbeddingBatchLimits.ParallelRuns"/>. Runs are short (milliseconds to a second), so a request cancelled
/// while waiting is dropped before its run, and one already in a run simply has its result discarded.
/// </summary>
public sealed class EmbeddingBatcher : IDisposable
{
    // Bounds how much a coalesced round may grow: enough for several full runs, little enough to keep latency fair.
    private const int CoalesceRuns = 4;

    private readonly string _modelId;
    private readonly IEmbeddingBackend _backend;
    private readonly EmbeddingBatchLimits _limits;
    private readonly int _maxQueue;
    private readonly ILogger _logger;
    private readonly Channel<Job> _queue = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;
    private int _jobsInFlight;
    private long _runs;
    private long _texts;

    public EmbeddingBatcher(string modelId, IEmbeddingBackend backend, int maxQueue, ILogger logger)
    {
        _modelId = modelId;
        _backend = backend;
        _limits = backend.Limits;
        _maxQueue = Math.Max(1, maxQueue);
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = $"castor-embedder-{modelId}" };
        _thread.Start();
    }

    /// <summary>Compute runs since start; a batch request that fits the limits adds exactly one.</summary>
    public long Runs => Interlocked.Read(ref _runs);

    /// <summary>Texts embedded since start.</summary>
    public long TextsEmbedded => Interlocked.Read(ref _texts);

    /// <summary>
    /// Queues the texts of one request; the task yields one vector per text, in order. Throws
    /// <see cref="EngineOverloadedException"/> at once when <c>maxQueue</c> requests are already waiting or running.
    /// </summary>
    public Task<float[][]> SubmitAsync(IReadOnlyList<TokenizedText> texts, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        if (texts.Count == 0) return Task.FromResult(Array.Empty<float[]>());
        foreach (var text in texts)
        {
            if (text.Count == 0)
                throw new ArgumentException("A text needs at least one token.", nameof(texts));
        }
        if (Interlocked.Increment(ref _jobsInFlight) > _maxQueue)
        {
            Interlocked.Decrement(ref _jobsInFlight);
            throw new EngineOverloadedException(_modelId);
        }

        var job = new Job(texts.Select(t => t.Tokens).ToArray(), () => Interlocked.Decrement(ref _jobsInFlight));
        if (cancellationToken.CanBeCanceled)
            job.Registration = cancellationToken.Register(static state => ((Job)state!).Cancel(), job);
        if (!_queue.Writer.TryWrite(job))
        {
            job.Fail(new ObjectDisposedException(nameof(EmbeddingBatcher)));
        }
        return job.Task;
    }

    private void Run()
    {
        var round = new List<Job>();
        var items = new List<Item>();
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                round.Clear();
                items.Clear();
                if (!TakeRound(round)) continue;
                foreach (var job in round)
                    for (var i = 0; i < job.Sequences.Length; i++)
                        items.Add(new Item(job, i));
                // Padding costs the longest text of a run, so runs of similar lengths waste least. Sorting is safe only
                // when vectors do not depend on their neighbours, which is also when requests may be mixed.
                if (_limits.Padded && _limits.BatchInvariant && items.Count > 1)
                    items.Sort(static (a, b) => a.Length.CompareTo(b.Length));
                RunItems(items);
            }
            catch (Exception ex) when (!_stopping.IsCancellationRequested)
            {
                _logger.LogError(ex, "Embedding round failed for model {Model}", _modelId);
                foreach (var job in round) job.Fail(ex);
            }
        }

        var stopped = new ObjectDisposedException(nameof(EmbeddingBatcher), "The server is shutting down.");
        while (_queue.Reader.TryRead(out var pending)) pending.Fail(stopped);
    }

    /// <summary>Waits for a request, then takes it (and, for batch-invariant backends, whatever else is waiting).</summary>
    private bool TakeRound(List<Job> round)
    {
        if (!_queue.Reader.TryRead(out var first))
        {
            try
            {
                _queue.Reader.WaitToReadAsync(_stopping.Token).AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
            }
            return false;
        }
        if (!first.IsCompleted) round.Add(first);
        if (!_limits.BatchInvariant) return round.Count > 0;

        var budget = _limits.MaxSequences * CoalesceRuns - first.Sequences.Length;
        while (budget > 0 && _queue.Reader.TryPeek(out var next) && next.Sequences.Length <= budget && _queue.Reader.TryRead(out next))
        {
            if (next.IsCompleted) continue;
            round.Add(next);
            budget -= next.Sequences.Length;
        }
        return round.Count > 0;
    }

    private void RunItems(List<Item> items)
    {
        var runs = Pack(items);
        if (runs.Count == 1 || _limits.ParallelRuns <= 1)
        {
            foreach (var run in runs) Execute(run);
            return;
        }
        // Backends that take concurrent runs (one ONNX session, single-threaded runs) get one run per core: no run
        // waits at a barrier for a preempted thread, which on a busy machine costs more than intra-op threads gain.
        Parallel.ForEach(runs, new ParallelOptions { MaxDegreeOfParallelism = _limits.ParallelRuns }, Execute);
    }

    /// <summary>
    /// Greedy packing in order: texts join a run while it stays within the backend's limits (a text always runs, alone if
    /// need be). With parallel runs, a small round is split so that every core gets a share.
    /// </summary>
    private List<List<Item>> Pack(List<Item> items)
    {
        var perRun = _limits.ParallelRuns > 1
            ? Math.Clamp((items.Count + _limits.ParallelRuns - 1) / _limits.ParallelRuns, 1, _limits.MaxSequences)
            : _limits.MaxSequences;
        var runs = new List<List<Item>>();
        var run = new List<Item>();
        int longest = 0, total = 0;
        foreach (var item in items)
        {
            var length = item.Length;
            var nextLongest = Math.Max(longest, length);
            var cost = _limits.Padded ? nextLongest * (run.Count + 1) : total + length;
            if (run.Count > 0 && (run.Count + 1 > perRun || cost > _limits.MaxTokens))
            {
                runs.Add(run);
                run = [];
                (longest, total) = (length, length);
            }
            else
            {
                (longest, total) = (nextLongest, total + length);
            }
            run.Add(item);
        }
        if (run.Count > 0) runs.Add(run);
        return runs;
    }

    private void Execute(List<Item> run)
    {
        run.RemoveAll(static item => item.Job.IsCompleted);
        if (run.Count == 0) return;
        float[][] vectors;
        try
        {
            vectors = _backend.Compute(run.Select(static item => item.Job.Sequences[item.Index]).ToList());
            if (vectors.Length != run.Count)
                throw new InvalidOperationException($"The backend returned {vectors.Length} vectors for {run.Count} texts.");
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            _logger.LogError(ex, "Embedding run of {Count} texts failed for model {Model}", run.Count, _modelId);
            foreach (var item in run) item.Job.Fail(ex);
            return;
        }
        Interlocked.Increment(ref _runs);
        Interlocked.Add(ref _texts, run.Count);
        for (var i = 0; i < run.Count; i++)
            run[i].Job.SetResult(run[i].Index, vectors[i]);
    }

    public void Dispose()
    {
        if (_stopping.IsCancellationRequested) return;
        _stopping.Cancel();
        _queue.Writer.TryComplete();
        _thread.Join(TimeSpan.FromSeconds(30));
        _stopping.Dispose();
    }

    private readonly record struct Item(Job Job, int Index)
    {
        public int Length => Job.Sequences[Index].Length;
    }

    private sealed class Job(int[][] sequences, Action onCompleted)
    {
        private readonly TaskCompletionSource<float[][]> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly float[][] _results = new float[sequences.Length][];
        private int _remaining = sequences.Length;
        private int _completed;

        public int[][] Sequences { get; } = sequences;
        public CancellationTokenRegistration Registration { get; set; }
        public Task<float[][]> Task => _completion.Task;
        public bool IsCompleted => Volatile.Read(ref _completed) == 1;

        public void SetResult(int index, float[] vector)
        {
            if (IsCompleted) return;
            _results[index] = vector;
            // Parallel runs may finish texts of one job on several threads.
            if (Interlocked.Decrement(ref _remaining) == 0 && Finish()) _completion.TrySetResult(_results);
        }

        public void Cancel()
        {
            if (Finish()) _completion.TrySetCanceled();
        }

        public void Fail(Exception error)
        {
            if (Finish()) _completion.TrySetException(error);
        }

        /// <summary>Marks the job done once and gives its place in the queue back.</summary>
        private bool Finish()
        {
            if (Interlocked.Exchange(ref _completed, 1) == 1) return false;
            Registration.Dispose();
            onCompleted();
            return true;
        }
    }
}
