namespace Castor.Storage.Live;

/// <summary>
/// A resumable Live session as stored: the SHA-256 of its current resumption handle (never the handle), its project and
/// model, and the adapter's setup and conversation as JSON (opaque here).
/// </summary>
public sealed record StoredLiveSession(
    string Id,
    byte[] HandleHash,
    string ProjectId,
    string Model,
    string Setup,
    string Conversation,
    DateTimeOffset UpdateTime,
    DateTimeOffset ExpireTime);
