namespace Castor.Storage.Quotas;

/// <summary>
/// Leases of open Live sessions in the shared store, for the concurrent-sessions limit: every node counts against one
/// total, and a lease its node stops renewing (the node died) frees its slot when it expires.
/// </summary>
public interface ILiveSessionLeaseStore
{
    /// <summary>
    /// Adds <paramref name="lease"/> when fewer than <paramref name="limit"/> unexpired leases (at <paramref name="now"/>)
    /// exist for its project and model, atomically with the count; false (nothing added) otherwise.
    /// </summary>
    Task<bool> TryAcquireAsync(LiveSessionLease lease, int limit, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Moves a lease's expiry to <paramref name="expiresAt"/>; false when it is gone (it expired and another session took its slot).</summary>
    Task<bool> RenewAsync(string id, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>Deletes a lease (its session closed).</summary>
    Task ReleaseAsync(string id, CancellationToken cancellationToken = default);
}
