using System.Text;
using Castor.Application.Backends;

namespace Castor.Application.Generation;

/// <summary>
/// Separates a thinking model's thoughts from its answer in streamed text, removing the markers. Thoughts come
/// first: output that does not open with the start marker (or begin inside a thought) is all answer.
/// </summary>
internal sealed class ThoughtSplitter(ThoughtMarkers markers)
{
    private enum Phase { Before, Thinking, Answer }

    private readonly StringBuilder _buffer = new();
    private Phase _phase = markers.StartsInThought ? Phase.Thinking : Phase.Before;
    private bool _trimAnswerStart = true;

    public (string Thought, string Answer) Push(string delta)
    {
        _buffer.Append(delta);
        var thought = new StringBuilder();
        var answer = new StringBuilder();
        while (true)
        {
            var text = _buffer.ToString();
            switch (_phase)
            {
                case Phase.Before:
                    var trimmed = text.TrimStart();
                    if (trimmed.StartsWith(markers.Start, StringComparison.Ordinal))
                    {
                        _buffer.Clear().Append(trimmed[markers.Start.Length..].TrimStart());
                        _phase = Phase.Thinking;
                        continue;
                    }
                    if (trimmed.Length == 0 || markers.Start.StartsWith(trimmed, StringComparison.Ordinal)) return (thought.ToString(), answer.ToString());
                    _phase = Phase.Answer;
                    _trimAnswerStart = false;
                    continue;
                case Phase.Thinking:
                    var end = text.IndexOf(markers.End, StringComparison.Ordinal);
                    if (end >= 0)
                    {
                        thought.Append(text[..end]);
                        _buffer.Clear().Append(text[(end + markers.End.Length)..]);
                        _phase = Phase.Answer;
                        continue;
                    }
                    var hold = HeldBack(text, markers.End);
                    thought.Append(text[..(text.Length - hold)]);
                    _buffer.Clear().Append(text[(text.Length - hold)..]);
                    return (thought.ToString(), answer.ToString());
                default:
                    if (_trimAnswerStart)
                    {
                        text = text.TrimStart();
                        if (text.Length == 0) { _buffer.Clear(); return (thought.ToString(), answer.ToString()); }
                        _trimAnswerStart = false;
                    }
                    answer.Append(text);
                    _buffer.Clear();
                    return (thought.ToString(), answer.ToString());
            }
        }
    }

    public (string Thought, string Answer) Flush()
    {
        var rest = _buffer.ToString();
        _buffer.Clear();
        return _phase == Phase.Thinking ? (rest, "") : ("", rest);
    }

    private static int HeldBack(string text, string marker)
    {
        for (var len = Math.Min(marker.Length - 1, text.Length); len > 0; len--)
            if (marker.StartsWith(text[^len..], StringComparison.Ordinal)) return len;
        return 0;
    }
}
