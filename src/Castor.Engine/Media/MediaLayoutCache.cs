namespace Castor.Engine.Media;

/// <summary>
/// The layouts of recently seen media items by their key (content hash, size and the projector context's token limit),
/// least recently used first out: a bounded number of small entries (a few counts and marker tokens each), never pixels.
/// </summary>
internal sealed class MediaLayoutCache(int capacity)
{
    private readonly Dictionary<string, LinkedListNode<(string Key, MediaLayout Layout)>> _byKey = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, MediaLayout Layout)> _order = new();
    private readonly Lock _gate = new();

    public int Count
    {
        get
        {
            lock (_gate) return _byKey.Count;
        }
    }

    public MediaLayout? Get(string key)
    {
        lock (_gate)
        {
            if (!_byKey.TryGetValue(key, out var node)) return null;
            _order.Remove(node);
            _order.AddFirst(node);
            return node.Value.Layout;
        }
    }

    public void Put(string key, MediaLayout layout)
    {
        lock (_gate)
        {
            if (_byKey.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                node.Value = (key, layout);
                _order.AddFirst(node);
                return;
            }
            _byKey[key] = _order.AddFirst((key, layout));
            while (_byKey.Count > capacity && _order.Last is { } last)
            {
                _order.RemoveLast();
                _byKey.Remove(last.Value.Key);
            }
        }
    }
}
