using System.Text;

namespace Castor.Application.Errors;

/// <summary>
/// Where in a request a value came from, as segments (<c>["tools", 0, "functionDeclarations", 2, "name"]</c>) rather than
/// text, so each protocol adapter can name the field as its own clients sent it: the Gemini adapter writes
/// <c>tools[0].functionDeclarations[2].name</c>, the OpenAI adapter <c>tools[2].function.name</c>.
/// Application code names fields in the internal model's words, which are the Gemini API's (camelCase); adapters record
/// the wire path themselves for values whose place differs between wires (function declarations).
/// </summary>
public sealed class FieldPath : IEquatable<FieldPath>
{
    private readonly FieldPathSegment[] _segments;

    private FieldPath(FieldPathSegment[] segments) => _segments = segments;

    /// <summary>The request itself.</summary>
    public static FieldPath Root { get; } = new([]);

    public IReadOnlyList<FieldPathSegment> Segments => _segments;

    /// <summary>A path that starts with the field <paramref name="name"/>.</summary>
    public static FieldPath Of(string name) => Root.Field(name);

    public FieldPath Field(string name) => new([.. _segments, FieldPathSegment.Field(name)]);

    public FieldPath Element(int index) => new([.. _segments, FieldPathSegment.Element(index)]);

    /// <summary>This path followed by <paramref name="tail"/>.</summary>
    public FieldPath Concat(FieldPath tail) => tail._segments.Length == 0 ? this : new([.. _segments, .. tail._segments]);

    /// <summary>The segments from <paramref name="start"/> on (an empty path past the end).</summary>
    public FieldPath From(int start) => start >= _segments.Length ? Root : new(_segments[start..]);

    /// <summary>
    /// Reads the dotted form (<c>contents[2].parts[0].text</c>). Anything whose segments would not write back to the very
    /// same text (a schema property called <c>a[01]</c>, say) stays one field named by the whole text, so a message built
    /// from a string path is never altered by the round trip.
    /// </summary>
    public static FieldPath Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var segments = new List<FieldPathSegment>();
        var name = new StringBuilder();
        var pendingName = true;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '.')
            {
                if (pendingName) segments.Add(FieldPathSegment.Field(name.ToString()));
                name.Clear();
                pendingName = true;
                continue;
            }
            if (c == '[')
            {
                var close = text.IndexOf(']', i + 1);
                if (close > i + 1 && int.TryParse(text.AsSpan(i + 1, close - i - 1), System.Globalization.NumberStyles.None, null, out var index) &&
                    close - i - 1 == index.ToString(System.Globalization.CultureInfo.InvariantCulture).Length)
                {
                    if (pendingName && (name.Length > 0 || segments.Count > 0 || i > 0)) segments.Add(FieldPathSegment.Field(name.ToString()));
                    name.Clear();
                    pendingName = false;
                    segments.Add(FieldPathSegment.Element(index));
                    i = close;
                    continue;
                }
            }
            if (!pendingName) return Root.Field(text); // "a[0]b": text right after an index is not a path we write.
            name.Append(c);
        }
        if (pendingName && (name.Length > 0 || segments.Count > 0)) segments.Add(FieldPathSegment.Field(name.ToString()));
        var path = new FieldPath([.. segments]);
        return path.ToString() == text ? path : Root.Field(text);
    }

    /// <summary>The dotted form in the internal model's (the Gemini API's) names: <c>a.b[0].c</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < _segments.Length; i++)
        {
            var s = _segments[i];
            if (s.IsIndex) sb.Append('[').Append(s.Index).Append(']');
            else
            {
                if (i > 0) sb.Append('.');
                sb.Append(s.Name);
            }
        }
        return sb.ToString();
    }

    /// <summary>This path written after a prefix that an adapter chose (<c>"stop" + "[1]"</c>, <c>"messages" + ".parts[0]"</c>).</summary>
    public string ToStringAfter(string prefix)
    {
        if (_segments.Length == 0) return prefix;
        var rest = ToString();
        return _segments[0].IsIndex || prefix.Length == 0 ? prefix + rest : prefix + "." + rest;
    }

    public bool StartsWith(params ReadOnlySpan<string> names)
    {
        if (names.Length > _segments.Length) return false;
        for (var i = 0; i < names.Length; i++)
            if (_segments[i].Name != names[i]) return false;
        return true;
    }

    public bool Equals(FieldPath? other) => other is not null && _segments.AsSpan().SequenceEqual(other._segments);

    public override bool Equals(object? obj) => Equals(obj as FieldPath);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var s in _segments) hash.Add(s);
        return hash.ToHashCode();
    }
}
