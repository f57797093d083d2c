namespace Castor.Storage.Caches;

/// <summary>
/// A cached content's row: who owns it, what it answers (model as the client named it, token count, times) and its
/// definition (contents, system instruction, tools, tool config) as the application serialized it, kept so its KV can be
/// computed again when no usable snapshot exists.
/// </summary>
public sealed record StoredCachedContent(
    string ProjectId,
    string Id,
    string Model,
    string? DisplayName,
    string Definition,
    int TokenCount,
    DateTimeOffset CreateTime,
    DateTimeOffset UpdateTime,
    DateTimeOffset ExpireTime);
