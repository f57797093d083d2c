using System.Globalization;
using System.Numerics;
using System.Text;

namespace Castor.Engine.Grammars;

/// <summary>
/// GBNF for JSON numbers within bounds, built digit by digit (the way a regex for a numeric range is built): e.g.
/// [3, 142] becomes <c>[3-9] | [1-9] [0-9] | "1" [0-3] [0-9] | "14" [0-2]</c>. A range over decimal strings is a regular
/// language whatever its bounds, so bounds are exact decimals of any size (<see cref="DecimalBound"/>), never doubles:
/// zod's <c>.int()</c> bounds ±(2^53−1) and fractional bounds like 0.5 are matched exactly. No leading zeros, no "-0",
/// no trailing zeros in a fraction, no exponent.
/// </summary>
internal static class NumberRanges
{
    /// <summary>
    /// The most digits an integer part has where no bound limits it (the unbounded number rules use the same):
    /// 16 digits reach 2^53 and beyond, and a JSON parser that reads numbers as doubles (every JS client) still
    /// reads them, exactly up to 2^53.
    /// </summary>
    public const int MaxDigits = 16;

    /// <summary>The most fraction digits generated beyond those a bound fixes (the unbounded number rule allows 15).</summary>
    public const int MaxFractionDigits = 15;

    // Optional further fraction digits ending in a non-zero one: fractions never end in 0.
    private const string Tail = "[0-9]{0,14} [1-9]";

    /// <summary>Integers in [min, max]; a null bound is open.</summary>
    public static string Integer(BigInteger? min, BigInteger? max)
    {
        var parts = new List<string>();
        if (min is null || min < 0)
        {
            // Negative values -n with n in [lo, hi].
            var lo = max is { } b && b < 0 ? -b : BigInteger.One;
            BigInteger? hi = min is null ? null : -min.Value;
            if (hi is null || lo <= hi)
                parts.Add("\"-\" " + Group(hi is null ? AtLeast(lo) : NonNegative(lo, hi.Value)));
        }
        if (max is null || max >= 0)
        {
            var lo = BigInteger.Max(min ?? 0, 0);
            if (max is null || lo <= max)
                parts.AddRange(max is null ? AtLeast(lo) : NonNegative(lo, max.Value));
        }
        return parts.Count == 0 ? throw new UnsupportedSchemaException("/", "no integer fits the bounds.") : string.Join(" | ", parts);
    }

    /// <summary>Integers within decimal bounds: the smallest integer above (or at) <paramref name="min"/> to the largest below (or at) <paramref name="max"/>.</summary>
    public static string IntegerWithin(Bound? min, Bound? max)
    {
        BigInteger? lo = min is { } a ? (a.Exclusive ? a.Value.Floor() + 1 : a.Value.Ceiling()) : null;
        BigInteger? hi = max is { } b ? (b.Exclusive ? b.Value.Ceiling() - 1 : b.Value.Floor()) : null;
        if (lo > hi) throw new UnsupportedSchemaException("/", "no integer fits the bounds.");
        return Integer(lo, hi);
    }

    /// <summary>Decimal numbers (an optional fraction, no exponent) within the bounds; a null bound is open.</summary>
    public static string Decimal(Bound? min, Bound? max)
    {
        var parts = new List<string>();
        var zero = new Bound(DecimalBound.Zero, false);
        // x >= 0: from max(min, 0) up to max.
        if (max is null || max.Value.Value.Sign > 0 || (max.Value.Value.Sign == 0 && !max.Value.Exclusive))
            parts.AddRange(NonNegativeDecimal(min is { } m && m.Value.Sign >= 0 ? m : zero, max));
        // x < 0 is -y with y > 0: y from max(-max, 0+) up to -min.
        if (min is null || min.Value.Value.Sign < 0)
        {
            var lo = max is { } b && b.Value.Sign < 0 ? new Bound(b.Value.Negate(), b.Exclusive) : zero with { Exclusive = true };
            Bound? hi = min is { } a ? new Bound(a.Value.Negate(), a.Exclusive) : null;
            var negative = NonNegativeDecimal(lo, hi);
            if (negative.Count > 0) parts.Add("\"-\" " + Group(negative));
        }
        return parts.Count == 0 ? throw new UnsupportedSchemaException("/", "no number fits the bounds.") : string.Join(" | ", parts);
    }

    /// <summary>Numbers I[.F] with lo ≤ (or &lt;) I.F ≤ (or &lt;) hi, where lo ≥ 0.</summary>
    private static List<string> NonNegativeDecimal(Bound lo, Bound? hi)
    {
        var list = new List<string>();
        var (loInt, loFrac) = lo.Value.Split();
        if (hi is { } h && (h.Value < lo.Value || (h.Value == lo.Value && (h.Exclusive || lo.Exclusive)))) return list;
        var anyFraction = $"(\".\" {Tail})?";
        if (hi is { } b)
        {
            var (hiInt, hiFrac) = b.Value.Split();
            if (loInt == hiInt)
            {
                Add(list, loInt, Fraction(loFrac, lo.Exclusive, hiFrac, b.Exclusive));
                return list;
            }
            Add(list, loInt, Fraction(loFrac, lo.Exclusive, null, false));
            if (loInt + 1 <= hiInt - 1) list.Add(Group(NonNegative(loInt + 1, hiInt - 1)) + " " + anyFraction);
            Add(list, hiInt, Fraction("", false, hiFrac, b.Exclusive));
            return list;
        }
        Add(list, loInt, Fraction(loFrac, lo.Exclusive, null, false));
        list.Add(Group(AtLeast(loInt + 1)) + " " + anyFraction);
        return list;
    }

    private static void Add(List<string> list, BigInteger integer, (bool Empty, string? Digits) fraction)
    {
        var text = $"\"{integer.ToString(CultureInfo.InvariantCulture)}\"";
        if (fraction.Digits is null)
        {
            if (fraction.Empty) list.Add(text);
            return;
        }
        list.Add(fraction.Empty ? $"{text} (\".\" ({fraction.Digits}))?" : $"{text} \".\" ({fraction.Digits})");
    }

    /// <summary>
    /// The fraction digit strings F (no trailing zero) with 0.lo ≤ 0.F ≤ 0.hi (strictly where exclusive); a null
    /// <paramref name="hi"/> is no upper limit below 1. Returns whether no fraction at all (F empty, the value 0) fits,
    /// and the alternatives for a non-empty F, or null when none fits.
    /// </summary>
    internal static (bool Empty, string? Digits) Fraction(string lo, bool loExclusive, string? hi, bool hiExclusive)
    {
        lo = lo.TrimEnd('0');
        if (hi is not null) hi = hi.TrimEnd('0');
        var empty = lo.Length == 0 && !loExclusive && (hi is null || hi.Length > 0 || !hiExclusive);
        // Above 0: every non-empty fraction (it ends in a non-zero digit) is, so only the empty one was excluded.
        if (lo.Length == 0) loExclusive = false;
        if (lo.Length == 0 && hi is null) return (empty, Tail);
        // hi == 0: no non-empty fraction (it would be above 0) fits.
        if (hi is { Length: 0 }) return (empty, null);

        var l0 = lo.Length > 0 ? lo[0] : '0';
        var h0 = hi is null ? '9' : hi[0];
        var alternatives = new List<string>();
        if (l0 == h0)
        {
            // Both limits continue: the remaining digits are bounded on both sides.
            var (restEmpty, rest) = Fraction(Rest(lo), loExclusive, hi is null ? null : hi[1..], hiExclusive);
            AddDigit(alternatives, l0, restEmpty, rest);
        }
        else
        {
            // First digit at the lower limit: the rest only bounded below.
            var (loEmpty, loRest) = Fraction(Rest(lo), loExclusive, null, false);
            AddDigit(alternatives, l0, loEmpty, loRest);
            // Digits strictly between: anything may follow.
            if (l0 + 1 <= h0 - 1)
                alternatives.Add($"{Range((char)(l0 + 1), (char)(h0 - 1))} ({Tail})?");
            // First digit at the upper limit: the rest only bounded above (hi null means the digit is 9 and unbounded).
            var (hiEmpty, hiRest) = hi is null ? (true, Tail) : Fraction("", false, hi[1..], hiExclusive);
            AddDigit(alternatives, h0, hiEmpty, hiRest);
        }
        return (empty, alternatives.Count == 0 ? null : string.Join(" | ", alternatives));
    }

    private static string Rest(string digits) => digits.Length > 0 ? digits[1..] : "";

    private static void AddDigit(List<string> alternatives, char digit, bool restEmpty, string? rest)
    {
        // The digit ends the fraction only if nothing more is needed and it is not a trailing zero.
        var canEnd = restEmpty && digit != '0';
        if (rest is null)
        {
            if (canEnd) alternatives.Add($"\"{digit}\"");
            return;
        }
        alternatives.Add(canEnd ? $"\"{digit}\" ({rest})?" : $"\"{digit}\" ({rest})");
    }

    private static string Range(char from, char to) => from == to ? $"\"{from}\"" : $"[{from}-{to}]";

    private static string Group(IReadOnlyList<string> alternatives) =>
        alternatives.Count == 1 ? alternatives[0] : "(" + string.Join(" | ", alternatives) + ")";

    private static List<string> AtLeast(BigInteger lo)
    {
        var digits = Digits(lo);
        var list = NonNegative(lo, BigInteger.Pow(10, digits) - 1);
        if (digits < MaxDigits) list.Add($"[1-9] [0-9]{{{digits},{MaxDigits - 1}}}");
        return list;
    }

    internal static List<string> NonNegative(BigInteger lo, BigInteger hi)
    {
        var list = new List<string>();
        for (var len = Digits(lo); len <= Digits(hi); len++)
        {
            var from = BigInteger.Max(lo, len == 1 ? 0 : BigInteger.Pow(10, len - 1));
            var to = BigInteger.Min(hi, BigInteger.Pow(10, len) - 1);
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
        var common = 0;
        while (x[common] == y[common]) common++;
        if (common > 0) return SameLength(x[common..], y[common..]).Select(r => $"\"{x[..common]}\" {r}").ToList();

        var rest = x.Length - 1;
        var list = new List<string>();
        var lowFirst = x[0];
        var highFirst = y[0];
        if (x[1..].All(c => c == '0')) lowFirst--;            // x0 followed by anything: fold into the middle
        else list.AddRange(SameLength(x[1..], new string('9', rest)).Select(r => $"\"{x[0]}\" {r}"));
        var highAll = y[1..].All(c => c == '9');
        if (highAll) highFirst++;
        if (lowFirst + 1 <= highFirst - 1)
            list.Add($"{Range((char)(lowFirst + 1), (char)(highFirst - 1))} [0-9]{{{rest}}}");
        if (!highAll)
            list.AddRange(SameLength(new string('0', rest), y[1..]).Select(r => $"\"{y[0]}\" {r}"));
        return list;
    }

    private static int Digits(BigInteger n) => n.ToString(CultureInfo.InvariantCulture).Length;

    /// <summary>A numeric bound and whether it excludes its own value.</summary>
    public readonly record struct Bound(DecimalBound Value, bool Exclusive);
}

/// <summary>
/// An exact decimal read from a JSON number's text: <see cref="Units"/> × 10^−<see cref="Scale"/>. Unlike double it
/// keeps 9007199254740991 and 0.1 exactly, and unlike decimal it has no range limit short of the one below.
/// </summary>
public readonly record struct DecimalBound(BigInteger Units, int Scale) : IComparable<DecimalBound>
{
    /// <summary>The largest exponent accepted: beyond ±1e308 no client can read a JSON number as a double.</summary>
    public const int MaxExponent = 308;

    /// <summary>The most digits after the point a bound may have; more only slows the grammar down and no double resolves them.</summary>
    public const int MaxScale = 40;

    public static readonly DecimalBound Zero = new(BigInteger.Zero, 0);

    public int Sign => Units.Sign;

    /// <summary>Parses a JSON number's text exactly; null when it is not one or is outside the limits above.</summary>
    public static DecimalBound? Parse(string text)
    {
        var m = System.Text.RegularExpressions.Regex.Match(text, @"^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([-+]?[0-9]{1,6}))?$");
        if (!m.Success) return null;
        var fraction = m.Groups[3].Value;
        var exponent = m.Groups[4].Success ? int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture) : 0;
        var units = BigInteger.Parse(m.Groups[2].Value + fraction, CultureInfo.InvariantCulture);
        if (m.Groups[1].Value == "-") units = -units;
        var scale = fraction.Length - exponent;
        // Normalise: no trailing zeros in the units when there is a scale, and no negative scale.
        while (scale > 0 && !units.IsZero && units % 10 == 0) { units /= 10; scale--; }
        if (units.IsZero) return Zero;
        var magnitude = BigInteger.Abs(units).ToString(CultureInfo.InvariantCulture).Length - scale;
        if (magnitude > MaxExponent + 1 || scale > MaxScale) return null;
        if (scale < 0) { units *= BigInteger.Pow(10, -scale); scale = 0; }
        return new DecimalBound(units, scale);
    }

    public DecimalBound Negate() => this with { Units = -Units };

    public BigInteger Floor() => BigInteger.Divide(Units - (Units.Sign < 0 ? Pow(Scale) - 1 : 0), Pow(Scale));

    public BigInteger Ceiling() => -Negate().Floor();

    /// <summary>The integer part and the fraction digits (exactly <see cref="Scale"/> of them) of a non-negative value.</summary>
    public (BigInteger Integer, string Fraction) Split()
    {
        var integer = BigInteger.DivRem(Units, Pow(Scale), out var remainder);
        return (integer, Scale == 0 ? "" : remainder.ToString(CultureInfo.InvariantCulture).PadLeft(Scale, '0'));
    }

    public int CompareTo(DecimalBound other)
    {
        var scale = Math.Max(Scale, other.Scale);
        return (Units * Pow(scale - Scale)).CompareTo(other.Units * Pow(scale - other.Scale));
    }

    public static bool operator <(DecimalBound a, DecimalBound b) => a.CompareTo(b) < 0;
    public static bool operator >(DecimalBound a, DecimalBound b) => a.CompareTo(b) > 0;
    public static bool operator <=(DecimalBound a, DecimalBound b) => a.CompareTo(b) <= 0;
    public static bool operator >=(DecimalBound a, DecimalBound b) => a.CompareTo(b) >= 0;

    public override string ToString()
    {
        var (integer, fraction) = (BigInteger.Abs(Units) / Pow(Scale), Scale == 0 ? "" : (BigInteger.Abs(Units) % Pow(Scale)).ToString(CultureInfo.InvariantCulture).PadLeft(Scale, '0'));
        var sb = new StringBuilder(Units.Sign < 0 ? "-" : "").Append(integer.ToString(CultureInfo.InvariantCulture));
        if (fraction.Length > 0) sb.Append('.').Append(fraction);
        return sb.ToString();
    }

    private static BigInteger Pow(int n) => BigInteger.Pow(10, n);
}
