namespace Castor.Storage.Keys;

/// <summary>Projects and their API keys. Keys are stored as SHA-256 hashes; the clear key exists only when it is created.</summary>
public interface IKeyStore
{
    /// <summary>Returns the project's id, creating the project if needed.</summary>
    Task<string> EnsureProjectAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Stores a key hash for a project (created if needed). Returns false when the hash is already stored.</summary>
    Task<bool> AddKeyAsync(StoredKey key, string projectName, CancellationToken cancellationToken = default);

    /// <summary>The active (not revoked) key with this hash, or null.</summary>
    Task<KeyOwner?> FindActiveKeyAsync(byte[] hash, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<KeyListing>> ListKeysAsync(string? projectName, CancellationToken cancellationToken = default);

    /// <summary>Revokes the key with this id. Returns false when no active key has it.</summary>
    Task<bool> RevokeKeyAsync(string keyId, DateTimeOffset revokedAt, CancellationToken cancellationToken = default);

    Task<int> CountActiveKeysAsync(CancellationToken cancellationToken = default);
}

/// <summary>A key as stored. <paramref name="Admin"/>: the key also manages projects, keys and tiers and reads usage.</summary>
public sealed record StoredKey(string Id, byte[] Hash, string Hint, string? DisplayName, DateTimeOffset CreatedAt, bool Admin = false);

public sealed record KeyOwner(string KeyId, string ProjectId, string ProjectName, bool Admin = false)
{
    /// <summary>The project's usage tier (null: the default tier), read with the key so rate limits need no second query.</summary>
    public string? Tier { get; init; }
}

public sealed record KeyListing(string Id, string ProjectName, string Hint, string? DisplayName, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, bool Admin = false);
