namespace Castor.Application.Keys;

/// <summary>
/// An ephemeral token. <see cref="Name"/> (<c>auth_tokens/…</c>) is the secret itself: it is known only in the answer
/// to create and is null when a token is read back for a session.
/// </summary>
public sealed record AuthToken(
    string? Name,
    Caller Caller,
    int Uses,
    DateTimeOffset ExpireTime,
    DateTimeOffset NewSessionExpireTime,
    string? Setup,
    string? FieldMask);
