using LLama.Native;

namespace Castor.Engine.Scheduling;

/// <summary>
/// Dedicated threads for grammar-constrained draws. Not the thread pool: a draw stuck for seconds inside llama.cpp
/// would hold a pool thread, and on a small machine every other draw (and Kestrel) would then queue behind the pool's
/// slow thread injection. An idle worker takes the next draw; when none is idle a new one starts. The scheduler keeps
/// at most one draw per sequence running and refuses grammar work while as many abandoned draws run, so there are
/// never more than twice the parallel sequences of these threads.
/// </summary>
internal sealed class GrammarWorkers(string modelId) : IDisposable
{
    private readonly Stack<Worker> _idle = new();
    private readonly Lock _gate = new();
    private bool _disposed;
    private int _started;

    public Task<LLamaToken> Run(Func<LLamaToken> draw)
    {
        var completion = new TaskCompletionSource<LLamaToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        Worker? worker;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_idle.TryPop(out worker))
                worker = new Worker(this, $"castor-grammar-{modelId}-{++_started}");
        }
        worker.Post(draw, completion);
        return completion.Task;
    }

    private bool ReturnIdle(Worker worker)
    {
        lock (_gate)
        {
            if (_disposed) return false;
            _idle.Push(worker);
            return true;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            while (_idle.TryPop(out var worker)) worker.Stop();
        }
    }

    // The semaphore is never disposed: a stopping worker's thread may still be leaving Wait, and SemaphoreSlim without
    // AvailableWaitHandle holds nothing native.
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "See above.")]
    private sealed class Worker
    {
        private readonly GrammarWorkers _owner;
        private readonly SemaphoreSlim _ready = new(0);
        private Func<LLamaToken>? _draw;
        private TaskCompletionSource<LLamaToken>? _completion;
        private volatile bool _stopping;

        public Worker(GrammarWorkers owner, string name)
        {
            _owner = owner;
            new Thread(Loop) { IsBackground = true, Name = name }.Start();
        }

        public void Post(Func<LLamaToken> draw, TaskCompletionSource<LLamaToken> completion)
        {
            _draw = draw;
            _completion = completion;
            _ready.Release();
        }

        public void Stop()
        {
            _stopping = true;
            _ready.Release();
        }

        private void Loop()
        {
            while (true)
            {
                _ready.Wait();
                if (_stopping) return;
                var (draw, completion) = (_draw!, _completion!);
                _draw = null;
                _completion = null;
                LLamaToken token = default;
                Exception? error = null;
                try
                {
                    token = draw();
                }
                catch (Exception ex)
                {
                    error = ex;
                }
                // Idle again before the result is published, so the scheduler's next draw finds this thread free
                // (never while a draw runs: a slow one would hold up the draw handed to it).
                var keep = _owner.ReturnIdle(this);
                if (error is null) completion.SetResult(token);
                else completion.SetException(error);
                if (!keep) return;
            }
        }
    }
}
