namespace Castor.Engine.Scheduling;

/// <summary>The last few tokens of a sequence, in a ring (thought markers are looked for at its end).</summary>
internal sealed class RecentTokens
{
    private readonly int[] _ring = new int[64];
    private int _next;
    private int _count;

    public void Add(int token)
    {
        _ring[_next] = token;
        _next = (_next + 1) % _ring.Length;
        if (_count < _ring.Length) _count++;
    }

    public bool EndsWith(IReadOnlyList<int> marker)
    {
        if (marker.Count == 0 || _count < marker.Count) return false;
        for (var i = 0; i < marker.Count; i++)
        {
            var at = (_next - marker.Count + i + _ring.Length) % _ring.Length;
            if (_ring[at] != marker[i]) return false;
        }
        return true;
    }
}
