namespace Castor.Storage.Caches;

/// <summary>Cached contents' metadata, per project. Expired rows are invisible to reads and removed by <see cref="DeleteExpiredAsync"/>.</summary>
public interface ICachedContentStore
{
    Task InsertAsync(StoredCachedContent cache, CancellationToken cancellationToken = default);

    /// <summary>The project's cache, or null when it does not exist, belongs to another project, or expired before <paramref name="now"/>.</summary>
    Task<StoredCachedContent?> GetAsync(string projectId, string id, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The project's unexpired caches, newest first, after <paramref name="after"/>.</summary>
    Task<IReadOnlyList<StoredCachedContent>> ListAsync(string projectId, DateTimeOffset now, int limit, CachedContentCursor? after,
        CancellationToken cancellationToken = default);

    /// <summary>Every unexpired cache of every project (for the CLI and the start-up banner).</summary>
    Task<IReadOnlyList<StoredCachedContent>> ListAllAsync(DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Moves an unexpired cache's expiry; false when it is gone.</summary>
    Task<bool> UpdateExpiryAsync(string projectId, string id, DateTimeOffset expireTime, DateTimeOffset updateTime, DateTimeOffset now,
        CancellationToken cancellationToken = default);

    Task<bool> DeleteAsync(string projectId, string id, CancellationToken cancellationToken = default);

    /// <summary>Removes the rows that expired before <paramref name="now"/> and returns their (project, id) pairs.</summary>
    Task<IReadOnlyList<(string ProjectId, string Id)>> DeleteExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default);
}
