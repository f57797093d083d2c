using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Castor.Application.Errors;
using Castor.Storage.Keys;

namespace Castor.Application.Keys;

/// <summary>
/// Issues and checks API keys. A key is shown once, at creation; the store keeps its SHA-256 hash (keys are
/// 238 bits of randomness, so a fast hash is safe) and a short hint for listings.
/// </summary>
public sealed partial class ApiKeyService(IKeyStore store, TimeProvider clock)
{
    public const string DefaultProject = "default";
    private const string KeyPrefix = "castor_";
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>Creates a key for <paramref name="project"/>; <paramref name="admin"/> keys also reach the admin routes.</summary>
    public async Task<CreatedKey> CreateKeyAsync(string project, string? displayName = null, bool admin = false, CancellationToken cancellationToken = default)
    {
        ValidateProjectName(project);
        var clear = KeyPrefix + RandomNumberGenerator.GetString(Alphabet, 40);
        var stored = new StoredKey(NewKeyId(), Hash(clear), Hint(clear), displayName, clock.GetUtcNow(), admin);
        await store.AddKeyAsync(stored, project, cancellationToken).ConfigureAwait(false);
        return new CreatedKey(stored.Id, project, clear, admin) { Hint = stored.Hint, CreatedAt = stored.CreatedAt };
    }

    /// <summary>
    /// The shortest key an operator may choose (CASTOR_API_KEY). Keys are stored as unsalted SHA-256 (fast to check on
    /// every request), which is safe for random keys but lets a short or guessable one be brute-forced from a copy
    /// of the database; 16 random characters are about 95 bits.
    /// </summary>
    public const int MinSeededKeyLength = 16;

    /// <summary>Registers a key chosen by the operator (CASTOR_API_KEY). Idempotent: the same key is stored once.</summary>
    public async Task SeedKeyAsync(string clearKey, string project = DefaultProject, CancellationToken cancellationToken = default)
    {
        ValidateProjectName(project);
        if (string.IsNullOrWhiteSpace(clearKey))
            throw new ArgumentException("An API key must not be empty.", nameof(clearKey));
        if (clearKey.Length < MinSeededKeyLength)
            throw new ArgumentException(
                $"CASTOR_API_KEY is {clearKey.Length} characters long; use at least {MinSeededKeyLength} random characters, " +
                "e.g. the output of `openssl rand -base64 32`, or leave it unset and create a key with `castor keys create`.");
        var hash = Hash(clearKey);
        if (await store.FindActiveKeyAsync(hash, cancellationToken).ConfigureAwait(false) is not null) return;
        var stored = new StoredKey(NewKeyId(), hash, Hint(clearKey), "from CASTOR_API_KEY", clock.GetUtcNow());
        await store.AddKeyAsync(stored, project, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Checks a key; throws the API's 400 API_KEY_INVALID for unknown or revoked keys.</summary>
    public async Task<Caller> AuthenticateAsync(string clearKey, CancellationToken cancellationToken = default)
    {
        var owner = await store.FindActiveKeyAsync(Hash(clearKey), cancellationToken).ConfigureAwait(false);
        if (owner is null)
        {
            throw new CastorException(ErrorStatus.InvalidArgument, "API key not valid. Please pass a valid API key.",
                new ErrorInfo("API_KEY_INVALID", "googleapis.com", new Dictionary<string, string> { ["service"] = "generativelanguage.googleapis.com" }),
                new ApiKeyRejected(ApiKeyProblem.Invalid));
        }
        return new Caller(owner.ProjectId, owner.ProjectName, owner.KeyId, owner.Admin) { Tier = owner.Tier, TierKnown = true };
    }

    public Task<IReadOnlyList<KeyListing>> ListAsync(string? project, CancellationToken cancellationToken = default) =>
        store.ListKeysAsync(project, cancellationToken);

    public Task<bool> RevokeAsync(string keyId, CancellationToken cancellationToken = default) =>
        store.RevokeKeyAsync(keyId, clock.GetUtcNow(), cancellationToken);

    /// <summary>
    /// Revokes a key on an admin's request through the API. The key the request itself is made with, and the last active
    /// admin key, are refused (400 FAILED_PRECONDITION): either would lock the caller out of the admin routes, and only
    /// the CLI on the server's machine could undo it. Returns false when no active key has the id.
    /// </summary>
    public async Task<bool> RevokeByAsync(Caller caller, string keyId, CancellationToken cancellationToken = default)
    {
        caller.RequireAdmin();
        if (string.Equals(keyId, caller.KeyId, StringComparison.Ordinal))
            throw new CastorException(ErrorStatus.FailedPrecondition,
                "This request is made with that key; revoke it with another admin key, or with `castor keys revoke` on the server.");
        var active = (await store.ListKeysAsync(null, cancellationToken).ConfigureAwait(false)).Where(k => k.RevokedAt is null).ToList();
        if (active.FirstOrDefault(k => k.Id == keyId) is { Admin: true } && active.Count(k => k.Admin) == 1)
            throw new CastorException(ErrorStatus.FailedPrecondition,
                "That is the last active admin key; create another admin key first (castor keys create --admin).");
        return await RevokeAsync(keyId, cancellationToken).ConfigureAwait(false);
    }

    public Task<int> CountActiveAsync(CancellationToken cancellationToken = default) => store.CountActiveKeysAsync(cancellationToken);

    public static void ValidateProjectName(string project)
    {
        if (!ProjectName().IsMatch(project ?? ""))
            throw new ArgumentException($"'{project}' is not a valid project name: use 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit.");
    }

    private static byte[] Hash(string clearKey) => SHA256.HashData(Encoding.UTF8.GetBytes(clearKey));

    /// <summary>
    /// A key's id is random, independent of the key: an id derived from the key's hash (as seeded keys' ids once were)
    /// hands anyone who can run <c>keys list</c> enough of the hash to test guesses offline.
    /// </summary>
    private static string NewKeyId() => "k-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    /// <summary>The last four characters, enough to tell keys apart in a listing; never enough to narrow a guess much.</summary>
    internal static string Hint(string clearKey)
    {
        var prefix = clearKey.StartsWith(KeyPrefix, StringComparison.Ordinal) ? KeyPrefix : "";
        return clearKey.Length < MinSeededKeyLength ? "****" : $"{prefix}…{clearKey[^4..]}";
    }

    // \z, not $: $ also matches before a final newline ("alpha\n" must not name a project).
    [GeneratedRegex(@"\A[a-z0-9][a-z0-9_-]{0,62}\z")]
    private static partial Regex ProjectName();
}

/// <summary>
/// The authenticated project a request acts for. <paramref name="IsAdmin"/>: the key has the admin role (created with
/// <c>castor keys create --admin</c>), which Castor's admin routes require through <see cref="RequireAdmin"/>.
/// </summary>
public sealed record Caller(string ProjectId, string ProjectName, string KeyId, bool IsAdmin = false)
{
    /// <summary>The project's usage tier as stored (null: <c>Quotas:DefaultTier</c>); meaningful when <see cref="TierKnown"/>.</summary>
    public string? Tier { get; init; }

    /// <summary>Whether <see cref="Tier"/> was read with the key; a caller made another way (an ephemeral token) leaves rate limits to look it up.</summary>
    public bool TierKnown { get; init; }

    /// <summary>Throws the API's 403 PERMISSION_DENIED unless the key is an admin key.</summary>
    public void RequireAdmin()
    {
        if (!IsAdmin)
            throw new CastorException(ErrorStatus.PermissionDenied,
                "This method needs an admin key. Create one with `castor keys create --admin` and call it with that key.");
    }
}

/// <summary>A key just created: the clear key exists only here, once.</summary>
public sealed record CreatedKey(string Id, string Project, string Key, bool Admin = false)
{
    /// <summary>What listings show of the key (its last characters).</summary>
    public string Hint { get; init; } = "";

    public DateTimeOffset CreatedAt { get; init; }
}
