using Castor.Storage.Files;

namespace Castor.Storage.Batches;

/// <summary>
/// Batch jobs, their requests and results. Every method is safe to call from several nodes sharing one database:
/// requests are claimed with leases (<see cref="ClaimAsync"/>), a result is accepted once and only from the lease holder
/// (<see cref="CompleteRequestAsync"/>), and a job is finalized once, by the node holding the job's lease.
/// </summary>
public interface IBatchStore
{
    /// <summary>
    /// Inserts the job and every request in one transaction (requests that failed validation are stored already
    /// <see cref="BatchRequestState.Failed"/> with their error as the result); nothing is visible before the commit.
    /// Returns the job as stored, with its request count.
    /// </summary>
    Task<StoredBatch> CreateAsync(StoredBatch batch, IAsyncEnumerable<NewBatchRequest> requests, CancellationToken cancellationToken = default);

    Task<StoredBatch?> GetAsync(string projectId, string id, CancellationToken cancellationToken = default);

    /// <summary>The project's jobs, newest first, after <paramref name="after"/> (the last job of the previous page).</summary>
    Task<IReadOnlyList<StoredBatch>> ListAsync(string projectId, int limit, BatchCursor? after, CancellationToken cancellationToken = default);

    /// <summary>A job of any project, by id (the operator's CLI).</summary>
    Task<StoredBatch?> FindAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Jobs of every project, newest first (the operator's CLI).</summary>
    Task<IReadOnlyList<StoredBatch>> ListAllAsync(int limit, CancellationToken cancellationToken = default);

    /// <summary>How many of the job's requests succeeded, failed or wait, and the tokens the finished ones used.</summary>
    Task<BatchCounts> CountAsync(string batchId, CancellationToken cancellationToken = default);

    /// <summary>Moves a job that has not ended to <see cref="BatchState.Cancelled"/>; null when the project has no such job.</summary>
    Task<StoredBatch?> CancelAsync(string projectId, string id, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Removes the job and its requests; false when the project has no such job.</summary>
    Task<bool> DeleteAsync(string projectId, string id, CancellationToken cancellationToken = default);

    /// <summary>Jobs still pending or running whose expiry passed end <see cref="BatchState.Expired"/>; returns how many.</summary>
    Task<int> ExpireAsync(DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims up to <paramref name="limit"/> waiting requests of pending or running jobs, oldest job first, in input
    /// order: each gets <paramref name="owner"/>'s lease until <paramref name="leaseUntil"/>, and its job becomes running.
    /// A request whose lease expired (its node died) is claimed again.
    /// </summary>
    Task<IReadOnlyList<ClaimedBatchRequest>> ClaimAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken = default);

    /// <summary>Extends <paramref name="owner"/>'s leases on the given requests of waiting requests it still holds.</summary>
    Task RenewAsync(string owner, IReadOnlyList<BatchRequestId> requests, DateTimeOffset leaseUntil, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records a request's result if <paramref name="owner"/> still holds its lease and no result exists yet; false
    /// otherwise (the lease was lost, or the job was deleted), in which case the result is dropped.
    /// </summary>
    Task<bool> CompleteRequestAsync(string owner, BatchRequestId request, BatchRequestResult result, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims jobs ready to finalize (every request finished, or the job cancelled or expired) that no live lease holds:
    /// each gets <paramref name="owner"/>'s job lease until <paramref name="leaseUntil"/>.
    /// </summary>
    Task<IReadOnlyList<StoredBatch>> ClaimFinalizeAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken = default);

    /// <summary>The job's requests in input order with their results, read as a stream (constant memory for large jobs).</summary>
    IAsyncEnumerable<StoredBatchRequest> ReadRequestsAsync(string batchId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends a job in one transaction: the output file's row (when there is one) is inserted, and the job is marked
    /// finalized with <paramref name="endState"/> unless it already ended (cancelled, expired). False when
    /// <paramref name="owner"/> no longer holds the job's lease or the job is gone.
    /// </summary>
    Task<bool> FinalizeAsync(string owner, string batchId, StoredFile? outputFile, BatchState endState, DateTimeOffset now, CancellationToken cancellationToken = default);
}
