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

    public async Task<CreatedKey> CreateKeyAsync(string project, string? displayName = null, CancellationToken cancellationToken = default)
    {
        ValidateProjectName(project);
        var clear = KeyPrefix + RandomNumberGenerator.GetString(Alphabet, 40);
        var stored = new StoredKey("k-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)), Hash(clear), Hint(clear), displayName, clock.GetUtcNow());
        await store.AddKeyAsync(stored, project, cancellationToken).ConfigureAwait(false);
        return new CreatedKey(stored.Id, project, clear);
    }

    /// <summary>Registers a key chosen by the operator (CASTOR_API_KEY). Idempotent: the same key is stored once.</summary>
    public async Task SeedKeyAsync(string clearKey, string project = DefaultProject, CancellationToken cancellationToken = default)
    {
        ValidateProjectName(project);
        if (string.IsNullOrWhiteSpace(clearKey))
            throw new ArgumentException("An API key must not be empty.", nameof(clearKey));
        var hash = Hash(clearKey);
        if (await store.FindActiveKeyAsync(hash, cancellationToken).ConfigureAwait(false) is not null) return;
        var stored = new StoredKey("k-" + Convert.ToHexStringLower(hash.AsSpan(0, 6)), hash, Hint(clearKey), "from CASTOR_API_KEY", clock.GetUtcNow());
        await store.AddKeyAsync(stored, project, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Checks a key; throws the API's 400 API_KEY_INVALID for unknown or revoked keys.</summary>
    public async Task<Caller> AuthenticateAsync(string clearKey, CancellationToken cancellationToken = default)
    {
        var owner = await store.FindActiveKeyAsync(Hash(clearKey), cancellationToken).ConfigureAwait(false);
        if (owner is null)
        {
            throw new CastorException(ErrorStatus.InvalidArgument, "API key not valid. Please pass a valid API key.",
                new ErrorInfo("API_KEY_INVALID", "googleapis.com", new Dictionary<string, string> { ["service"] = "generativelanguage.googleapis.com" }));
        }
        return new Caller(owner.ProjectId, owner.ProjectName, owner.KeyId);
    }

    public Task<IReadOnlyList<KeyListing>> ListAsync(string? project, CancellationToken cancellationToken = default) =>
        store.ListKeysAsync(project, cancellationToken);

    public Task<bool> RevokeAsync(string keyId, CancellationToken cancellationToken = default) =>
        store.RevokeKeyAsync(keyId, clock.GetUtcNow(), cancellationToken);

    public Task<int> CountActiveAsync(CancellationToken cancellationToken = default) => store.CountActiveKeysAsync(cancellationToken);

    public static void ValidateProjectName(string project)
    {
        if (!ProjectName().IsMatch(project ?? ""))
            throw new ArgumentException($"'{project}' is not a valid project name: use 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit.");
    }

    private static byte[] Hash(string clearKey) => SHA256.HashData(Encoding.UTF8.GetBytes(clearKey));

    private static string Hint(string clearKey) =>
        clearKey.Length <= 12 ? new string('*', clearKey.Length) : $"{clearKey[..(clearKey.StartsWith(KeyPrefix, StringComparison.Ordinal) ? KeyPrefix.Length + 4 : 4)]}…{clearKey[^4..]}";

    // \z, not $: $ also matches before a final newline ("alpha\n" must not name a project).
    [GeneratedRegex(@"\A[a-z0-9][a-z0-9_-]{0,62}\z")]
    private static partial Regex ProjectName();
}

/// <summary>The authenticated project a request acts for.</summary>
public sealed record Caller(string ProjectId, string ProjectName, string KeyId);

public sealed record CreatedKey(string Id, string Project, string Key);
