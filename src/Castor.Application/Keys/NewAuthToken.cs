namespace Castor.Application.Keys;

/// <summary>
/// What <c>auth_tokens.create</c> asks for. Times are RFC 3339 text as the client sent them; <see cref="Setup"/> is the
/// adapter's BidiGenerateContentSetup as JSON, kept opaque here and handed back when the token opens a session.
/// </summary>
public sealed record NewAuthToken(int? Uses, string? ExpireTime, string? NewSessionExpireTime, string? Setup, string? FieldMask);
