namespace Castor.Application.Caching;

/// <summary>
/// A cached content as the API shows it: never its contents, only what it is (<see cref="Name"/>, the model as the
/// client named it, times) and how many tokens it holds.
/// </summary>
public sealed record CachedContent(
    string Id,
    string Model,
    string? DisplayName,
    DateTimeOffset CreateTime,
    DateTimeOffset UpdateTime,
    DateTimeOffset ExpireTime,
    int TotalTokenCount)
{
    /// <summary><c>cachedContents/{id}</c>.</summary>
    public string Name => CachedContentService.NamePrefix + Id;
}
