namespace Castor.Storage.Keys;

/// <summary>Ephemeral tokens (<c>auth_tokens</c>), stored hashed.</summary>
public interface IAuthTokenStore
{
    /// <summary>Stores a new token and forgets tokens that expired before <paramref name="now"/>.</summary>
    Task AddAsync(StoredAuthToken token, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The token with this hash whose creating key is still active, or null.</summary>
    Task<StoredAuthToken?> FindAsync(byte[] hash, CancellationToken cancellationToken = default);

    /// <summary>Counts one use, atomically; false when the token has no use left (a token with <c>uses</c> 0 never runs out).</summary>
    Task<bool> TakeUseAsync(string id, CancellationToken cancellationToken = default);
}
