using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Castor.UnitTests.Grammars;

/// <summary>
/// Reads the GBNF Castor writes (rules, literals, character classes, groups, alternatives, ?, *, +, {m,n}) so tests can
/// generate random sentences of a grammar, and decide membership for grammars without recursion (as a .NET regex).
/// Independent of the compiler: it reads the grammar text, the way llama.cpp does.
/// </summary>
internal sealed class Gbnf
{
    private abstract record Node;
    private sealed record Alt(List<List<Item>> Options) : Node;
    private sealed record Lit(string Text) : Node;
    private sealed record Cls(List<(int From, int To)> Ranges, bool Negated) : Node;
    private sealed record Ref(string Name) : Node;
    private sealed record Item(Node Atom, int Min, int? Max);

    private readonly Dictionary<string, Alt> _rules = new(StringComparer.Ordinal);
    private readonly Dictionary<Node, double> _cost = new(ReferenceEqualityComparer.Instance);

    public Gbnf(string grammar)
    {
        foreach (var line in grammar.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = line.IndexOf(" ::= ", StringComparison.Ordinal);
            var parser = new Parser(line[(at + 5)..]);
            _rules[line[..at].Trim()] = parser.ParseAlt();
            if (!parser.AtEnd) throw new FormatException($"trailing text in: {line}");
        }
        foreach (var (_, alt) in _rules)
            foreach (var r in Refs(alt))
                if (!_rules.ContainsKey(r)) throw new FormatException($"undefined rule {r}");
        ComputeCosts();
    }

    /// <summary>A random sentence of <paramref name="rule"/>.</summary>
    public string Sample(Random random, string rule = "root")
    {
        var sb = new StringBuilder();
        Emit(_rules[rule], random, sb, 0);
        return sb.ToString();
    }

    /// <summary>A regex for the language of <paramref name="rule"/> (rules inlined; throws on recursion).</summary>
    public Regex ToRegex(string rule = "root") => new("^(?:" + RegexOf(_rules[rule], []) + ")$", RegexOptions.CultureInvariant);

    private void Emit(Node node, Random random, StringBuilder sb, int depth)
    {
        switch (node)
        {
            case Lit l: sb.Append(l.Text); break;
            case Cls c: sb.Append(char.ConvertFromUtf32(Pick(c, random))); break;
            case Ref r: Emit(_rules[r.Name], random, sb, depth + 1); break;
            case Alt a:
                // Deep in a recursion, take the cheapest way out so that sampling ends.
                var options = depth > 40 ? a.Options.OrderBy(SeqCost).Take(1).ToList() : a.Options.Where(o => !double.IsInfinity(SeqCost(o))).ToList();
                foreach (var item in options[random.Next(options.Count)])
                {
                    var max = item.Max ?? item.Min + 4;
                    var count = depth > 40 ? item.Min : random.Next(item.Min, max + 1);
                    for (var i = 0; i < count; i++) Emit(item.Atom, random, sb, depth + 1);
                }
                break;
        }
    }

    private static int Pick(Cls c, Random random)
    {
        if (!c.Negated)
        {
            var total = c.Ranges.Sum(r => r.To - r.From + 1);
            var k = random.Next(total);
            foreach (var (from, to) in c.Ranges)
            {
                if (k <= to - from) return from + k;
                k -= to - from + 1;
            }
        }
        int[] extra = [0xE9, 0x4E16, 0x1F600];
        for (var i = 0; i < 1000; i++)
        {
            var ch = random.Next(4) == 0 ? extra[random.Next(extra.Length)] : random.Next(0x20, 0x7F);
            if (!c.Ranges.Any(r => ch >= r.From && ch <= r.To)) return ch;
        }
        throw new InvalidOperationException("no character outside the class");
    }

    private string RegexOf(Node node, HashSet<string> visiting) => node switch
    {
        Lit l => Regex.Escape(l.Text),
        Cls c => "[" + (c.Negated ? "^" : "") + string.Concat(c.Ranges.Select(r => Esc(r.From) + (r.To > r.From ? "-" + Esc(r.To) : ""))) + "]",
        Ref r => visiting.Add(r.Name)
            ? "(?:" + RegexOf(_rules[r.Name], visiting) + ")" + (visiting.Remove(r.Name) ? "" : "")
            : throw new InvalidOperationException($"recursive rule {r.Name}"),
        Alt a => string.Join("|", a.Options.Select(o => string.Concat(o.Select(i =>
            "(?:" + RegexOf(i.Atom, visiting) + ")" + (i.Min, i.Max) switch
            {
                (1, 1) => "",
                (var m, null) => $"{{{m},}}",
                (var m, var x) => $"{{{m},{x}}}",
            })))),
        _ => throw new InvalidOperationException(),
    };

    private static string Esc(int c) => c > 0xFFFF ? char.ConvertFromUtf32(c) : "\\u" + c.ToString("X4", CultureInfo.InvariantCulture);

    private static IEnumerable<string> Refs(Node node) => node switch
    {
        Ref r => [r.Name],
        Alt a => a.Options.SelectMany(o => o.SelectMany(i => Refs(i.Atom))),
        _ => [],
    };

    private double SeqCost(List<Item> seq) => seq.Sum(i => i.Min == 0 ? 0 : i.Min * Cost(i.Atom));

    private double Cost(Node node) => node switch
    {
        Lit or Cls => 1,
        Ref r => _cost.GetValueOrDefault(_rules[r.Name], double.PositiveInfinity),
        Alt a => _cost.GetValueOrDefault(a, double.PositiveInfinity),
        _ => double.PositiveInfinity,
    };

    private void ComputeCosts()
    {
        var alts = new List<Alt>();
        void Collect(Node n)
        {
            if (n is not Alt a) return;
            alts.Add(a);
            foreach (var o in a.Options) foreach (var i in o) Collect(i.Atom);
        }
        foreach (var (_, alt) in _rules) Collect(alt);
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var a in alts)
            {
                var cost = a.Options.Min(SeqCost);
                if (cost < _cost.GetValueOrDefault(a, double.PositiveInfinity)) { _cost[a] = cost; changed = true; }
            }
        }
    }

    private sealed class Parser(string text)
    {
        private int _i;

        public bool AtEnd { get { SkipSpace(); return _i >= text.Length; } }

        public Alt ParseAlt()
        {
            var options = new List<List<Item>> { ParseSeq() };
            while (!AtEnd && text[_i] == '|') { _i++; options.Add(ParseSeq()); }
            return new Alt(options);
        }

        private List<Item> ParseSeq()
        {
            var items = new List<Item>();
            while (!AtEnd && text[_i] is not ('|' or ')'))
            {
                Node atom = text[_i] switch
                {
                    '"' => ParseLiteral(),
                    '[' => ParseClass(),
                    '(' => ParseGroup(),
                    _ => ParseRef(),
                };
                var (min, max) = (1, (int?)1);
                if (_i < text.Length)
                {
                    switch (text[_i])
                    {
                        case '?': (min, max) = (0, 1); _i++; break;
                        case '*': (min, max) = (0, null); _i++; break;
                        case '+': (min, max) = (1, null); _i++; break;
                        case '{':
                            var end = text.IndexOf('}', _i);
                            var parts = text[(_i + 1)..end].Split(',');
                            min = int.Parse(parts[0], CultureInfo.InvariantCulture);
                            max = parts.Length == 1 ? min : parts[1].Length == 0 ? null : int.Parse(parts[1], CultureInfo.InvariantCulture);
                            _i = end + 1;
                            break;
                    }
                }
                items.Add(new Item(atom, min, max));
            }
            return items;
        }

        private Alt ParseGroup()
        {
            _i++;
            var alt = ParseAlt();
            if (text[_i] != ')') throw new FormatException("expected )");
            _i++;
            return alt;
        }

        private Ref ParseRef()
        {
            var start = _i;
            while (_i < text.Length && (char.IsAsciiLetterOrDigit(text[_i]) || text[_i] == '-')) _i++;
            if (_i == start) throw new FormatException($"unexpected '{text[_i]}' at {_i} in {text}");
            return new Ref(text[start.._i]);
        }

        private Lit ParseLiteral()
        {
            _i++;
            var sb = new StringBuilder();
            while (text[_i] != '"') sb.Append(char.ConvertFromUtf32(ReadChar()));
            _i++;
            return new Lit(sb.ToString());
        }

        private Cls ParseClass()
        {
            _i++;
            var negated = text[_i] == '^';
            if (negated) _i++;
            var ranges = new List<(int, int)>();
            while (text[_i] != ']')
            {
                var from = ReadChar();
                var to = from;
                if (text[_i] == '-' && text[_i + 1] != ']') { _i++; to = ReadChar(); }
                ranges.Add((from, to));
            }
            _i++;
            return new Cls(ranges, negated);
        }

        private int ReadChar()
        {
            var c = text[_i++];
            if (c != '\\')
            {
                if (char.IsHighSurrogate(c)) return char.ConvertToUtf32(c, text[_i++]);
                return c;
            }
            var e = text[_i++];
            int Hex(int n) { var v = int.Parse(text.AsSpan(_i, n), NumberStyles.HexNumber, CultureInfo.InvariantCulture); _i += n; return v; }
            return e switch
            {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'x' => Hex(2),
                'u' => Hex(4),
                'U' => Hex(8),
                _ => e,
            };
        }

        private void SkipSpace()
        {
            while (_i < text.Length && text[_i] == ' ') _i++;
        }
    }
}
