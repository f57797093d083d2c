namespace Castor.Application.Backends;

/// <summary>
/// A prompt prefix's KV state as a backend saved it: restoring it makes <see cref="Tokens"/> resident without computing
/// them. <see cref="Identity"/> is the backend's <see cref="IModelBackend.SnapshotIdentity"/> when it was made; the
/// state only fits a backend with the same identity.
/// </summary>
public sealed record KvSnapshot(string Identity, IReadOnlyList<int> Tokens, byte[] State)
{
    /// <summary>What the snapshot costs in memory (the state and the token ids).</summary>
    public long SizeBytes => State.LongLength + 4L * Tokens.Count;
}
