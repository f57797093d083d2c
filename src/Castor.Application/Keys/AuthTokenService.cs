using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Castor.Application.Errors;
using Castor.Storage.Keys;

namespace Castor.Application.Keys;

/// <summary>
/// Ephemeral tokens (<c>auth_tokens</c>): short-lived secrets a backend hands to a browser or phone so it can open Live
/// sessions for the backend's project without holding the API key. Stored as a SHA-256 hash like keys (the token has
/// 238 random bits). A token acts for the project of the key that created it, and stops working when that key is revoked.
/// </summary>
public sealed class AuthTokenService(IAuthTokenStore store, TimeProvider clock)
{
    public const string NamePrefix = "auth_tokens/";

    /// <summary>The API's defaults: one use, 30 minutes to use the sessions, 1 minute to start one.</summary>
    public const int DefaultUses = 1;

    public static readonly TimeSpan DefaultExpiry = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan DefaultNewSessionExpiry = TimeSpan.FromMinutes(1);

    /// <summary>The API refuses expiry times 20 hours or more ahead.</summary>
    public static readonly TimeSpan MaxExpiry = TimeSpan.FromHours(20);

    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    public async Task<AuthToken> CreateAsync(Caller caller, NewAuthToken request, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var uses = request.Uses ?? DefaultUses;
        if (uses < 0)
            throw CastorException.InvalidField("uses", $"{uses} is not a valid number of uses; use 1 or more, or 0 for no limit.");
        var expireTime = Time(request.ExpireTime, "expireTime", now) ?? now + DefaultExpiry;
        // A new session cannot start after the token's sessions must end.
        var newSessionExpireTime = Time(request.NewSessionExpireTime, "newSessionExpireTime", now) ?? Min(now + DefaultNewSessionExpiry, expireTime);
        if (newSessionExpireTime > expireTime)
            throw CastorException.InvalidField("newSessionExpireTime", "must not be later than expireTime.");

        var name = NamePrefix + RandomNumberGenerator.GetString(Alphabet, 46);
        var stored = new StoredAuthToken("t-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), Hash(name), caller.ProjectId,
            caller.KeyId, uses, 0, now, expireTime, newSessionExpireTime, request.Setup, request.FieldMask);
        await store.AddAsync(stored, now, cancellationToken).ConfigureAwait(false);
        return new AuthToken(name, caller, uses, expireTime, newSessionExpireTime, request.Setup, request.FieldMask);
    }

    /// <summary>
    /// Checks a token that opens a new Live session and counts the use. Throws UNAUTHENTICATED with the reason the
    /// session is refused: unknown (or its key revoked), expired, past its time to start sessions, or used up.
    /// </summary>
    public async Task<AuthToken> StartSessionAsync(string name, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var token = await store.FindAsync(Hash(name), cancellationToken).ConfigureAwait(false)
                    ?? throw Refused("The ephemeral token is not valid. Create a new one with auth_tokens.create.");
        if (now >= token.ExpireTime)
            throw Refused("The ephemeral token has expired (expireTime).");
        if (now >= token.NewSessionExpireTime)
            throw Refused("The ephemeral token can no longer start new sessions (newSessionExpireTime has passed).");
        if (!await store.TakeUseAsync(token.Id, cancellationToken).ConfigureAwait(false))
            throw Refused($"The ephemeral token has been used up (uses: {token.Uses}).");
        return new AuthToken(null, new Caller(token.ProjectId, token.ProjectName, token.KeyId), token.Uses, token.ExpireTime,
            token.NewSessionExpireTime, token.Setup, token.FieldMask);
    }

    private static CastorException Refused(string message) => new(ErrorStatus.Unauthenticated, message);

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset? Time(string? text, string field, DateTimeOffset now)
    {
        if (text is null) return null;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time) ||
            !(text.EndsWith('Z') || text.EndsWith('z') || text.Length > 6 && text[^6] is '+' or '-'))
            throw CastorException.InvalidField(field, $"'{text}' is not a valid timestamp; use RFC 3339 with a time zone, such as \"2030-01-01T00:00:00Z\".");
        if (time <= now)
            throw CastorException.InvalidField(field, $"'{text}' is in the past; it must be later than now.");
        if (time - now >= MaxExpiry)
            throw CastorException.InvalidField(field, $"'{text}' is too far ahead; it must be less than 20 hours from now.");
        return time.ToUniversalTime();
    }

    private static byte[] Hash(string name) => SHA256.HashData(Encoding.UTF8.GetBytes(name));
}
