namespace Castor.Engine.Text;

/// <summary>
/// Finds stop sequences in streamed text. Text that could still turn into a stop sequence is held back until
/// the next delta decides it, so a stop sequence never leaks to the client, even split across tokens.
/// </summary>
public sealed class StopSequenceMatcher
{
    private readonly string[] _stops;
    private string _pending = "";

    public StopSequenceMatcher(IReadOnlyList<string> stopSequences)
    {
        _stops = stopSequences.Where(s => s.Length > 0).ToArray();
    }

    public bool Stopped { get; private set; }

    /// <summary>Adds generated text; returns the part that is safe to emit now.</summary>
    public string Push(string delta)
    {
        if (Stopped || delta.Length == 0) return "";
        if (_stops.Length == 0) return delta;

        var text = _pending + delta;
        var first = -1;
        foreach (var stop in _stops)
        {
            var at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first)) first = at;
        }
        if (first >= 0)
        {
            Stopped = true;
            _pending = "";
            return text[..first];
        }

        var hold = LongestSuffixThatStartsAStop(text);
        _pending = text[(text.Length - hold)..];
        return text[..(text.Length - hold)];
    }

    /// <summary>Releases held-back text when generation ends for another reason.</summary>
    public string Flush()
    {
        var rest = Stopped ? "" : _pending;
        _pending = "";
        return rest;
    }

    private int LongestSuffixThatStartsAStop(string text)
    {
        var best = 0;
        foreach (var stop in _stops)
        {
            for (var len = Math.Min(stop.Length - 1, text.Length); len > best; len--)
            {
                if (text.AsSpan(text.Length - len).SequenceEqual(stop.AsSpan(0, len)))
                {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
