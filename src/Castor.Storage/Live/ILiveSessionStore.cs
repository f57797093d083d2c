namespace Castor.Storage.Live;

/// <summary>Resumable Live sessions (<c>sessionResumption</c>), one row per session, found by the hash of its current handle.</summary>
public interface ILiveSessionStore
{
    /// <summary>Adds the session or replaces its row (a new handle, the conversation so far), and forgets sessions that expired before <paramref name="now"/>.</summary>
    Task SaveAsync(StoredLiveSession session, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The session whose current handle has this hash (expired or not: the caller says which), or null.</summary>
    Task<StoredLiveSession?> FindAsync(byte[] handleHash, CancellationToken cancellationToken = default);
}
