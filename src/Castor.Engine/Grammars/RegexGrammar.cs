using System.Globalization;
using System.Text.Json;

namespace Castor.Engine.Grammars;

/// <summary>
/// Translates a JSON Schema <c>pattern</c> (ECMA-262 syntax) into a GBNF expression for the JSON string's content,
/// the way llama.cpp's own json-schema-to-grammar converter does (<c>_visit_pattern</c>): literals, <c>.</c>,
/// classes and escapes (<c>\d \w \s</c> and their negations), groups (capturing, <c>(?:)</c>, named), alternation and
/// the quantifiers <c>? * + {n} {n,} {n,m}</c> (lazy or not: the language is the same) map one to one onto GBNF.
/// Constructs outside regular grammar without lookaround — backreferences, lookahead/lookbehind, word boundaries,
/// inline flags, Unicode property escapes, anchors inside the pattern — are refused naming the construct.
/// <para>
/// Every sentence matches the pattern, though not every match is a sentence: an unanchored pattern is generated as if
/// anchored (a string matching <c>^p$</c> also contains a match of <c>p</c>), and <c>.</c> and negated classes never
/// produce a quote, a backslash or a control character, which would need JSON escapes (explicit ones still do).
/// </para>
/// </summary>
public static class RegexGrammar
{
    /// <summary>The longest pattern translated.</summary>
    public const int MaxPatternLength = 4096;

    /// <summary>
    /// How many more times than its minimum an unbounded repetition (<c>* + {n,}</c>) is generated. A model under a
    /// grammar rarely chooses to stop by itself (the test model went on for thousands of characters on zod's email
    /// pattern); with a cap every sentence still matches, and a nested one like zod's email stays short.
    /// </summary>
    public const int UnboundedRepetition = 8;

    /// <summary>The deepest nesting of groups translated.</summary>
    public const int MaxNesting = 32;

    /// <summary>The GBNF for the string content (without the quotes) and the least and most characters a match has (null: unbounded).</summary>
    public static (string Gbnf, int MinLength, int? MaxLength) Translate(string pattern)
    {
        if (pattern.Length > MaxPatternLength)
            throw new RegexNotSupportedException($"the pattern is longer than the {MaxPatternLength} characters translated.");
        var node = new Parser(pattern).Parse();
        return (Render(node), MinLength(node), MaxLength(node));
    }

    private abstract record Node;
    private sealed record Seq(List<Node> Items) : Node;
    private sealed record Alt(List<Node> Options) : Node;
    private sealed record Repeat(Node Item, int Min, int? Max) : Node;
    private sealed record Chars(List<(int From, int To)> Ranges) : Node;     // a positive set of code points
    private sealed record Literal(int CodePoint) : Node;

    private static string Render(Node node) => node switch
    {
        Literal l => LiteralOf(l.CodePoint),
        Chars c => RenderClass(c.Ranges),
        Seq s => s.Items.Count == 0 ? "\"\"" : string.Join(" ", s.Items.Select(i => Group(i, Render(i)))),
        Alt a => string.Join(" | ", a.Options.Select(Render)),
        Repeat r => Group(r.Item, Render(r.Item), always: true) + (r.Min, r.Max) switch
        {
            (0, 1) => "?",
            (0, null) => "*",
            (1, null) => "+",
            (var m, null) => $"{{{m},}}",
            (var m, var x) when m == x => $"{{{m}}}",
            (var m, var x) => $"{{{m},{x}}}",
        },
        _ => throw new InvalidOperationException(),
    };

    private static string Group(Node node, string text, bool always = false) =>
        node is Literal || (node is Chars c && !text.Contains(" | ", StringComparison.Ordinal)) || (!always && node is Repeat) ? text : $"({text})";

    /// <summary>A character as JSON writes it inside a string (escaped where JSON requires), as a GBNF literal.</summary>
    private static string LiteralOf(int codePoint)
    {
        var json = JsonSerializer.Serialize(char.ConvertFromUtf32(codePoint), JsonOptions);
        return JsonSchemaGrammar.Literal(json[1..^1], quoted: false);
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// A class as GBNF: the characters JSON writes as they are in one bracket expression, and each that JSON
    /// escapes (quote, backslash, controls) as its escape sequence.
    /// </summary>
    private static string RenderClass(List<(int From, int To)> ranges)
    {
        var plain = new List<(int, int)>();
        var escaped = new List<string>();
        foreach (var (from, to) in ranges)
        {
            // Cut out the controls, quote and backslash (written as escapes) and the surrogates (no character alone).
            var start = from;
            foreach (var (cutFrom, cutTo, escape) in Cuts)
            {
                if (cutTo < start || cutFrom > to) continue;
                if (start < cutFrom) plain.Add((start, cutFrom - 1));
                if (escape)
                    for (var c = Math.Max(cutFrom, start); c <= Math.Min(cutTo, to); c++) escaped.Add(LiteralOf(c));
                start = cutTo + 1;
            }
            if (start <= to) plain.Add((start, to));
        }
        var parts = new List<string>();
        if (plain.Count > 0)
            parts.Add("[" + string.Concat(plain.Select(r => ClassChar(r.Item1) + (r.Item2 > r.Item1 ? "-" + ClassChar(r.Item2) : ""))) + "]");
        parts.AddRange(escaped);
        return parts.Count == 0 ? throw new RegexNotSupportedException("a character class matches no character JSON can carry.") : string.Join(" | ", parts);
    }

    private static readonly (int From, int To, bool Escape)[] Cuts = [(0x00, 0x1F, true), ('"', '"', true), ('\\', '\\', true), (0xD800, 0xDFFF, false)];

    private static string ClassChar(int c) =>
        c < 0x80 && char.IsAsciiLetterOrDigit((char)c) ? ((char)c).ToString()
        : c <= 0xFF ? "\\x" + c.ToString("X2", CultureInfo.InvariantCulture)
        : c <= 0xFFFF ? "\\u" + c.ToString("X4", CultureInfo.InvariantCulture)
        : "\\U" + c.ToString("X8", CultureInfo.InvariantCulture);

    private static int MinLength(Node node) => node switch
    {
        Literal or Chars => 1,
        Seq s => s.Items.Sum(MinLength),
        Alt a => a.Options.Min(MinLength),
        Repeat r => r.Min * MinLength(r.Item),
        _ => 0,
    };

    private static int? MaxLength(Node node)
    {
        switch (node)
        {
            case Literal or Chars: return 1;
            case Seq s:
                long sum = 0;
                foreach (var i in s.Items) { if (MaxLength(i) is not { } m) return null; sum += m; }
                return (int)Math.Min(sum, int.MaxValue);
            case Alt a:
                var max = 0;
                foreach (var o in a.Options) { if (MaxLength(o) is not { } m) return null; max = Math.Max(max, m); }
                return max;
            case Repeat r:
                if (r.Max is not { } times) return MaxLength(r.Item) == 0 ? 0 : null;
                return MaxLength(r.Item) is { } one ? (int)Math.Min((long)one * times, int.MaxValue) : null;
            default: return 0;
        }
    }

    // \s generates only ASCII whitespace (every regex dialect agrees on it); \S excludes all of ECMA-262's \s.
    private static readonly (int, int)[] AsciiSpace = [(0x09, 0x0D), (0x20, 0x20)];
    private static readonly (int, int)[] Space =
        [(0x09, 0x0D), (0x20, 0x20), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF)];
    private static readonly (int, int)[] Digit = [('0', '9')];
    private static readonly (int, int)[] Word = [('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];

    /// <summary>
    /// The characters of the Basic Multilingual Plane outside <paramref name="set"/>, less those JSON would have to
    /// escape. Astral characters are left out: without the <c>u</c> flag an ECMA-262 <c>.</c> matches half of one.
    /// </summary>
    private static List<(int From, int To)> Complement(IEnumerable<(int From, int To)> set, bool excludeNewlines = false)
    {
        var excluded = set.Concat(new (int From, int To)[] { (0x00, 0x1F), ('"', '"'), ('\\', '\\'), (0xD800, 0xDFFF) });
        if (excludeNewlines) excluded = excluded.Concat(new (int From, int To)[] { (0x2028, 0x2029) });
        var sorted = excluded.OrderBy(r => r.From).ToList();
        var result = new List<(int From, int To)>();
        var next = 0;
        foreach (var (from, to) in sorted)
        {
            if (from > next) result.Add((next, from - 1));
            next = Math.Max(next, to + 1);
        }
        if (next <= 0xFFFF) result.Add((next, 0xFFFF));
        return result;
    }

    private sealed class Parser(string pattern)
    {
        private int _i;
        private int _depth;

        public Node Parse()
        {
            var node = ParseAlternation();
            if (_i < pattern.Length) throw Unsupported($"an unmatched ')' at {_i}");
            return node;
        }

        private Node ParseAlternation()
        {
            var options = new List<Node> { ParseSequence() };
            while (_i < pattern.Length && pattern[_i] == '|')
            {
                _i++;
                options.Add(ParseSequence());
            }
            return options.Count == 1 ? options[0] : new Alt(options);
        }

        private Node ParseSequence()
        {
            var items = new List<Node>();
            while (_i < pattern.Length && pattern[_i] is not ('|' or ')'))
            {
                var c = pattern[_i];
                if (c == '^')
                {
                    // An anchor at the start of a top-level alternative: the whole string is generated anyway.
                    if (_depth > 0 || items.Count > 0) throw Unsupported($"the anchor '^' inside the pattern (at {_i})");
                    _i++;
                    continue;
                }
                if (c == '$')
                {
                    _i++;
                    if (_depth > 0 || (_i < pattern.Length && pattern[_i] != '|')) throw Unsupported($"the anchor '$' inside the pattern (at {_i - 1})");
                    continue;
                }
                var atom = ParseAtom();
                items.Add(ParseQuantifier(atom));
            }
            return items.Count == 1 ? items[0] : new Seq(items);
        }

        private Node ParseQuantifier(Node atom)
        {
            if (_i >= pattern.Length) return atom;
            int min;
            int? max;
            switch (pattern[_i])
            {
                case '?': (min, max) = (0, 1); _i++; break;
                case '*': (min, max) = (0, null); _i++; break;
                case '+': (min, max) = (1, null); _i++; break;
                case '{' when TryBraces(out min, out max): break;
                default: return atom;
            }
            if (_i < pattern.Length && pattern[_i] == '?') _i++;   // lazy: the same language
            if (_i < pattern.Length && pattern[_i] is '?' or '*' or '+') throw Unsupported($"a quantifier after a quantifier (at {_i})");
            if (max < min) throw Unsupported($"the quantifier {{{min},{max}}} (its maximum is below its minimum)");
            if (min > JsonSchemaGrammar.MaxRepetition || max > JsonSchemaGrammar.MaxRepetition)
                throw Unsupported($"a repetition of more than {JsonSchemaGrammar.MaxRepetition}");
            return new Repeat(atom, min, max ?? min + UnboundedRepetition);
        }

        private bool TryBraces(out int min, out int? max)
        {
            (min, max) = (0, null);
            var end = pattern.IndexOf('}', _i);
            if (end < 0) return false;
            var parts = pattern[(_i + 1)..end].Split(',');
            if (parts.Length > 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out min)) return false;
            if (parts.Length == 1) max = min;
            else if (parts[1].Length > 0)
            {
                if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var m)) return false;
                max = m;
            }
            _i = end + 1;
            return true;
        }

        private Node ParseAtom()
        {
            var c = pattern[_i];
            switch (c)
            {
                case '(':
                    return ParseGroup();
                case '[':
                    return ParseClass();
                case '.':
                    _i++;
                    return new Chars(Complement([(0x0A, 0x0A), (0x0D, 0x0D)], excludeNewlines: true));
                case '\\':
                    _i++;
                    return ParseEscape(inClass: false) switch
                    {
                        { Set: { } set } => new Chars(set.ToList()),
                        { Char: var ch } => new Literal(ch),
                    };
                case '*' or '+' or '?':
                    throw Unsupported($"a quantifier with nothing to repeat (at {_i})");
                case '{' when TryBraces(out _, out _):
                    throw Unsupported($"a quantifier with nothing to repeat (at {_i})");
                default:
                    _i++;
                    if (char.IsHighSurrogate(c) && _i < pattern.Length && char.IsLowSurrogate(pattern[_i]))
                        return new Literal(char.ConvertToUtf32(c, pattern[_i++]));
                    return new Literal(c);
            }
        }

        private Node ParseGroup()
        {
            _i++;
            if (pattern.AsSpan(_i).StartsWith("?"))
            {
                var rest = pattern.AsSpan(_i);
                if (rest.StartsWith("?:")) _i += 2;
                else if (rest.StartsWith("?=") || rest.StartsWith("?!")) throw Unsupported("lookahead ((?=…) or (?!…))");
                else if (rest.StartsWith("?<=") || rest.StartsWith("?<!")) throw Unsupported("lookbehind ((?<=…) or (?<!…))");
                else if (rest.StartsWith("?<"))
                {
                    var end = pattern.IndexOf('>', _i);
                    if (end < 0) throw Unsupported("an unterminated group name");
                    _i = end + 1;
                }
                else throw Unsupported($"the group modifier '({rest[..Math.Min(3, rest.Length)]}' (inline flags are not supported)");
            }
            if (++_depth > MaxNesting) throw Unsupported($"groups nested more than {MaxNesting} deep");
            var inner = ParseAlternation();
            _depth--;
            if (_i >= pattern.Length || pattern[_i] != ')') throw Unsupported("an unterminated group");
            _i++;
            return inner;
        }

        private Node ParseClass()
        {
            _i++;
            var negated = _i < pattern.Length && pattern[_i] == '^';
            if (negated) _i++;
            var ranges = new List<(int, int)>();
            while (true)
            {
                if (_i >= pattern.Length) throw Unsupported("an unterminated character class");
                if (pattern[_i] == ']') { _i++; break; }
                var (from, set) = ClassAtom();
                if (set is not null) { ranges.AddRange(set); continue; }
                if (_i + 1 < pattern.Length && pattern[_i] == '-' && pattern[_i + 1] != ']')
                {
                    _i++;
                    var (to, toSet) = ClassAtom();
                    if (toSet is not null) throw Unsupported("a range that ends in a class escape");
                    if (to < from) throw Unsupported($"the range {char.ConvertFromUtf32(from)}-{char.ConvertFromUtf32(to)} (out of order)");
                    ranges.Add((from, to));
                }
                else ranges.Add((from, from));
            }
            if (negated) return new Chars(Complement(ranges));
            if (ranges.Count == 0) throw Unsupported("an empty character class");
            return new Chars(ranges);
        }

        private (int Char, IReadOnlyList<(int From, int To)>? Set) ClassAtom()
        {
            var c = pattern[_i++];
            if (c != '\\')
            {
                if (char.IsHighSurrogate(c) && _i < pattern.Length && char.IsLowSurrogate(pattern[_i]))
                    return (char.ConvertToUtf32(c, pattern[_i++]), null);
                return (c, null);
            }
            return ParseEscape(inClass: true);
        }

        /// <summary>After a backslash: a single character, or a class escape's set.</summary>
        private (int Char, IReadOnlyList<(int From, int To)>? Set) ParseEscape(bool inClass)
        {
            if (_i >= pattern.Length) throw Unsupported("a pattern that ends in a backslash");
            var e = pattern[_i++];
            switch (e)
            {
                case 'd': return (0, Digit);
                case 'w': return (0, Word);
                case 's': return (0, AsciiSpace);
                case 'D' or 'W' or 'S':
                    if (inClass) throw Unsupported($"'\\{e}' inside a character class");
                    return (0, Complement(e == 'D' ? Digit : e == 'W' ? Word : Space));
                case 't': return ('\t', null);
                case 'n': return ('\n', null);
                case 'r': return ('\r', null);
                case 'f': return ('\f', null);
                case 'v': return ('\v', null);
                case '0' when _i >= pattern.Length || !char.IsAsciiDigit(pattern[_i]): return (0, null);
                case 'b' when inClass: return ('\b', null);
                case 'b' or 'B': throw Unsupported($"the word boundary '\\{e}'");
                case >= '1' and <= '9': throw Unsupported($"the backreference '\\{e}'");
                case 'k': throw Unsupported("a named backreference ('\\k<…>')");
                case 'p' or 'P': throw Unsupported($"the Unicode property escape '\\{e}{{…}}'");
                case 'c': throw Unsupported("a control escape ('\\c')");
                case 'x': return (Hex(2), null);
                case 'u':
                    if (_i < pattern.Length && pattern[_i] == '{')
                    {
                        var end = pattern.IndexOf('}', _i);
                        if (end < 0) throw Unsupported("an unterminated '\\u{'");
                        var value = int.Parse(pattern.AsSpan(_i + 1, end - _i - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                        _i = end + 1;
                        return (value, null);
                    }
                    return (Hex(4), null);
                default:
                    if (char.IsAsciiLetterOrDigit(e)) throw Unsupported($"the escape '\\{e}'");
                    return (e, null);
            }
        }

        private int Hex(int digits)
        {
            if (_i + digits > pattern.Length || !int.TryParse(pattern.AsSpan(_i, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value))
                throw Unsupported($"a malformed hexadecimal escape (at {_i})");
            _i += digits;
            return value;
        }

        private static RegexNotSupportedException Unsupported(string construct) =>
            new($"{construct} cannot be enforced by a grammar.");
    }
}

/// <summary>A pattern outside the regular-expression subset that <see cref="RegexGrammar"/> translates.</summary>
public sealed class RegexNotSupportedException(string message) : Exception(message);
