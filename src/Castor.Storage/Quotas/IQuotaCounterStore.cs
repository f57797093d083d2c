namespace Castor.Storage.Quotas;

/// <summary>
/// Rate-limit counters in the shared store, so every node of a cluster counts against one total. Adding is atomic per
/// counter (an upsert that returns the new total), which is what lets two servers together admit no more than a limit.
/// </summary>
public interface IQuotaCounterStore
{
    /// <summary>Adds each delta to its counter (created at zero if needed) in one round trip; returns the totals after the addition, in the deltas' order.</summary>
    Task<long[]> AddAsync(IReadOnlyList<QuotaCounterDelta> deltas, CancellationToken cancellationToken = default);

    /// <summary>Deletes counters of windows that started before <paramref name="windowStart"/> (Unix seconds); they can no longer refuse anything.</summary>
    Task<int> DeleteBeforeAsync(long windowStart, CancellationToken cancellationToken = default);
}
