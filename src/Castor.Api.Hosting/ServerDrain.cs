namespace Castor.Api.Hosting;

/// <summary>
/// Whether the server is draining (it got SIGTERM: readiness is false, new requests are refused) and how many requests
/// are running. The host begins the drain and waits here until the running requests have finished or the grace period ends.
/// </summary>
public sealed class ServerDrain : IDisposable
{
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _begun = new();
    private int _inFlight;
    private volatile bool _draining;

    /// <summary>How long a refused client is told to wait (Retry-After) before it tries again, here or at another replica.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(5);

    public bool IsDraining => _draining;

    /// <summary>
    /// Cancelled when the drain begins. Long-lived requests (Live sessions) end themselves on it: the drain runs before
    /// the host's ApplicationStopping fires, and waits for them, so a session that waited for ApplicationStopping would
    /// hold the shutdown for its whole grace period and then be cut.
    /// </summary>
    public CancellationToken Draining => _begun.Token;

    /// <summary>Requests running now (probes and /metrics are not counted).</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Counts a request in; false once draining (the caller answers 503).</summary>
    public bool TryEnter()
    {
        if (_draining) return false;
        Interlocked.Increment(ref _inFlight);
        if (!_draining) return true;
        // The drain began between the check and the count: this request was not seen running, so it is refused.
        Exit();
        return false;
    }

    /// <summary>Counts a request out; the last one out of a draining server ends the wait.</summary>
    public void Exit()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && _draining) _idle.TrySetResult();
    }

    /// <summary>Stops admitting requests; <see cref="WaitForIdleAsync"/> completes when the running ones have finished.</summary>
    public void BeginDrain()
    {
        _draining = true;
        if (InFlight == 0) _idle.TrySetResult();
        _begun.Cancel();
    }

    /// <summary>Completes when a draining server has no request running; <paramref name="cancellationToken"/> ends the grace period.</summary>
    public Task WaitForIdleAsync(CancellationToken cancellationToken) => _idle.Task.WaitAsync(cancellationToken);

    public void Dispose() => _begun.Dispose();
}
