namespace Castor.Storage.Keys;

/// <summary>
/// An ephemeral token for the Live API, as stored: its SHA-256 hash, never the token. <see cref="Setup"/> is the
/// adapter's BidiGenerateContentSetup as JSON (opaque here); <see cref="ProjectName"/> is filled when read.
/// </summary>
public sealed record StoredAuthToken(
    string Id,
    byte[] Hash,
    string ProjectId,
    string KeyId,
    int Uses,
    int UsesTaken,
    DateTimeOffset CreateTime,
    DateTimeOffset ExpireTime,
    DateTimeOffset NewSessionExpireTime,
    string? Setup,
    string? FieldMask,
    string ProjectName = "");
