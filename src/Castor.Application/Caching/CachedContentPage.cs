namespace Castor.Application.Caching;

/// <summary>One page of cachedContents.list; <see cref="NextPageToken"/> is null on the last page (never empty: the SDK would loop).</summary>
public sealed record CachedContentPage(IReadOnlyList<CachedContent> CachedContents, string? NextPageToken);
