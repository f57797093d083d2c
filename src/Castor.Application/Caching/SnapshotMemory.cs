using Castor.Application.Backends;

namespace Castor.Application.Caching;

/// <summary>
/// KV snapshots held in memory, by cache, bounded by bytes: adding one past the bound drops the least recently used
/// until it fits (a dropped snapshot is read back from disk when next used). Thread-safe.
/// </summary>
internal sealed class SnapshotMemory(long maxBytes)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, KvSnapshot Snapshot)>> _byKey = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, KvSnapshot Snapshot)> _recency = new();
    private long _bytes;

    public long Bytes
    {
        get
        {
            lock (_gate) return _bytes;
        }
    }

    public int Count
    {
        get
        {
            lock (_gate) return _byKey.Count;
        }
    }

    public long MaxBytes => maxBytes;

    public KvSnapshot? Get(string key)
    {
        lock (_gate)
        {
            if (!_byKey.TryGetValue(key, out var node)) return null;
            _recency.Remove(node);
            _recency.AddFirst(node);
            return node.Value.Snapshot;
        }
    }

    /// <summary>Keeps a snapshot (replacing the key's previous one); one larger than the whole bound is not kept.</summary>
    public void Put(string key, KvSnapshot snapshot)
    {
        lock (_gate)
        {
            RemoveLocked(key);
            if (snapshot.SizeBytes > maxBytes) return;
            while (_bytes + snapshot.SizeBytes > maxBytes && _recency.Last is { } oldest)
                RemoveLocked(oldest.Value.Key);
            _byKey[key] = _recency.AddFirst((key, snapshot));
            _bytes += snapshot.SizeBytes;
        }
    }

    public void Remove(string key)
    {
        lock (_gate) RemoveLocked(key);
    }

    private void RemoveLocked(string key)
    {
        if (!_byKey.Remove(key, out var node)) return;
        _recency.Remove(node);
        _bytes -= node.Value.Snapshot.SizeBytes;
    }
}
