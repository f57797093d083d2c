namespace Castor.Storage.Caches;

/// <summary>A snapshot file's contents once verified: the identity it was made under, its prefix tokens and the KV state.</summary>
public sealed record SnapshotFile(string Identity, int[] Tokens, byte[] State);
