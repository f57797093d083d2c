namespace Castor.Storage.Caches;

/// <summary>Where a cachedContents.list page ends: the last row returned (keyset paging, newest first).</summary>
public sealed record CachedContentCursor(DateTimeOffset CreateTime, string Id);
