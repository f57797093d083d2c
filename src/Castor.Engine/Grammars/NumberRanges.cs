using System.Globalization;

namespace Castor.Engine.Grammars;

/// <summary>
/// GBNF for JSON numbers within whole-number bounds, built digit by digit (the way a regex for a numeric range is
/// built): e.g. [3, 142] becomes <c>[3-9] | [1-9] [0-9] | "1" [0-3] [0-9] | "14" [0-2]</c>. No leading zeros, no "-0".
/// </summary>
internal static class NumberRanges
{
    private const int MaxDigits = 16;

    /// <summary>Integers in [min, max]; a null bound is open.</summary>
    public static string Integer(long? min, long? max)
    {
        var parts = new List<string>();
        if (min is null || min < 0)
        {
            // Negative values -n with n in [lo, hi].
            var lo = max is { } b && b < 0 ? -b : 1;
            long? hi = min is null ? null : -min.Value;
            if (hi is null || lo <= hi)
                parts.Add("\"-\" " + Group(hi is null ? AtLeast(lo) : NonNegative(lo, hi.Value)));
        }
        if (max is null || max >= 0)
        {
            var lo = Math.Max(min ?? 0, 0);
            if (max is null || lo <= max)
                parts.AddRange(max is null ? AtLeast(lo) : NonNegative(lo, max.Value));
        }
        return parts.Count == 0 ? throw new UnsupportedSchemaException("/", "no integer fits the bounds.") : string.Join(" | ", parts);
    }

    /// <summary>Decimal numbers in [min, max] (whole-number bounds): the integers, plus values with a fraction.</summary>
    public static string Decimal(long? min, long? max)
    {
        const string fraction = "\".\" [0-9]{0,14} [1-9]";
        var parts = new List<string> { Integer(min, max) };

        // n.f > n, so n may go up to max - 1, and must be at least max(min, 0).
        var posLo = Math.Max(min ?? 0, 0);
        long? posHi = max is null ? null : max - 1;
        if (max is null || max > 0)
            if (posHi is null || posLo <= posHi)
                parts.Add(Group(posHi is null ? AtLeast(posLo) : NonNegative(posLo, posHi.Value)) + " " + fraction);

        // -(n.f): needs n + f <= -min and n + f >= -max.
        if (min is null || min < 0)
        {
            var negLo = max is null || max >= 0 ? 0 : -max.Value;
            long? negHi = min is null ? null : -min.Value - 1;
            if (negHi is null || negLo <= negHi)
                parts.Add("\"-\" " + Group(negHi is null ? AtLeast(negLo) : NonNegative(negLo, negHi.Value)) + " " + fraction);
        }
        return string.Join(" | ", parts);
    }

    private static string Group(IReadOnlyList<string> alternatives) =>
        alternatives.Count == 1 ? alternatives[0] : "(" + string.Join(" | ", alternatives) + ")";

    private static List<string> AtLeast(long lo)
    {
        var digits = Digits(lo);
        var list = NonNegative(lo, Pow10(digits) - 1);
        if (digits < MaxDigits) list.Add($"[1-9] [0-9]{{{digits},{MaxDigits - 1}}}");
        return list;
    }

    internal static List<string> NonNegative(long lo, long hi)
    {
        var list = new List<string>();
        for (var len = Digits(lo); len <= Digits(hi); len++)
        {
            var from = Math.Max(lo, len == 1 ? 0 : Pow10(len - 1));
            var to = Math.Min(hi, Pow10(len) - 1);
            if (from <= to)
                list.AddRange(SameLength(from.ToString(CultureInfo.InvariantCulture), to.ToString(CultureInfo.InvariantCulture)));
        }
        return list;
    }

    /// <summary>Patterns for the digit strings from <paramref name="x"/> to <paramref name="y"/>, both of the same length.</summary>
    private static List<string> SameLength(string x, string y)
    {
        if (x == y) return [$"\"{x}\""];
        if (x.Length == 1) return [$"[{x}-{y}]"];
        if (x[0] == y[0]) return SameLength(x[1..], y[1..]).Select(r => $"\"{x[0]}\" {r}").ToList();

        var rest = x.Length - 1;
        var list = new List<string>();
        var lowFirst = x[0];
        var highFirst = y[0];
        if (x[1..].All(c => c == '0')) lowFirst--;            // x0 followed by anything: fold into the middle
        else list.AddRange(SameLength(x[1..], new string('9', rest)).Select(r => $"\"{x[0]}\" {r}"));
        var highAll = y[1..].All(c => c == '9');
        if (highAll) highFirst++;
        if (lowFirst + 1 <= highFirst - 1)
        {
            var digits = lowFirst + 1 == highFirst - 1 ? $"\"{(char)(lowFirst + 1)}\"" : $"[{(char)(lowFirst + 1)}-{(char)(highFirst - 1)}]";
            list.Add($"{digits} [0-9]{{{rest}}}");
        }
        if (!highAll)
            list.AddRange(SameLength(new string('0', rest), y[1..]).Select(r => $"\"{y[0]}\" {r}"));
        return list;
    }

    private static int Digits(long n) => n.ToString(CultureInfo.InvariantCulture).Length;

    private static long Pow10(int n)
    {
        long r = 1;
        for (var i = 0; i < n; i++) r *= 10;
        return r;
    }
}
