namespace Castor.Storage.Batches;

/// <summary>Keyset position in a listing: the create time and id of the last job already returned.</summary>
public sealed record BatchCursor(DateTimeOffset CreateTime, string Id);
