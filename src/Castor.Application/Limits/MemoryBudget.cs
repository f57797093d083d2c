using Castor.Application.Errors;

namespace Castor.Application.Limits;

/// <summary>
/// A server-wide budget of bytes held at once (request bodies being buffered and parsed). Requests reserve before
/// they buffer and give back when they end; a request that does not fit is refused at once with 503 UNAVAILABLE and
/// Retry-After, the API's answer for a server at capacity, which every client retries (the caller did nothing
/// wrong and has no quota to check, so 429 would mislead). One reservation always fits when nothing else is held, so a
/// budget smaller than one request's body slows the server down rather than refusing everything.
/// </summary>
public sealed class MemoryBudget(long capacityBytes)
{
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private long _held;

    public long CapacityBytes { get; } = capacityBytes;

    /// <summary>Bytes reserved right now.</summary>
    public long HeldBytes
    {
        get
        {
            lock (_lock) return _held;
        }
    }

    /// <summary>An empty reservation; grow it before holding more bytes, dispose it when the bytes are released.</summary>
    public Reservation Reserve() => new(this);

    private void Take(long bytes)
    {
        lock (_lock)
        {
            if (_held > 0 && _held + bytes > CapacityBytes)
                throw new CastorException(ErrorStatus.Unavailable,
                    $"The server is holding as many request bodies in memory as it may ({CapacityBytes / (1024 * 1024)} MiB, Limits:RequestBodyMemory). Please try again in {RetryAfter.TotalSeconds:0}s.",
                    new RetryDelay(RetryAfter));
            _held += bytes;
        }
    }

    private void Give(long bytes)
    {
        lock (_lock) _held -= bytes;
    }

    public sealed class Reservation(MemoryBudget budget) : IDisposable
    {
        private long _bytes;
        private bool _disposed;

        public long Bytes => _bytes;

        /// <summary>Reserves up to <paramref name="total"/> bytes in all; throws 503 UNAVAILABLE when the budget is spent.</summary>
        public void GrowTo(long total)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (total <= _bytes) return;
            budget.Take(total - _bytes);
            _bytes = total;
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            budget.Give(_bytes);
            _bytes = 0;
        }
    }
}
