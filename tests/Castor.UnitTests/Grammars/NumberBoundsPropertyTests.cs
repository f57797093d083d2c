using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Castor.Engine.Grammars;
using Json.Schema;

namespace Castor.UnitTests.Grammars;

/// <summary>
/// Random numeric bounds (whole and fractional, inclusive and exclusive in both the draft-4 boolean and the numeric
/// form, ±(2^53−1), straddling zero, single points) compiled to GBNF; random sentences of each grammar must parse as
/// JSON numbers and satisfy the bounds (checked by JsonSchema.Net and by exact decimal arithmetic), and the grammar
/// must contain the values just inside its bounds, not the bounds it excludes.
/// </summary>
public sealed class NumberBoundsPropertyTests
{
    private const string MaxSafe = "9007199254740991";

    private static readonly string[] Pool =
    [
        MaxSafe, "-" + MaxSafe, "0", "0.5", "-0.5", "1", "-1", "0.25", "3.75", "-2.125", "100", "-100", "1e3", "2.5e-1",
        "0.1", "-0.1", "0.999", "1.001", "99.5", "-99.5", "4294967295", "2147483647", "-2147483648", "0.001",
    ];

    private static string RandomBound(Random random) => random.Next(3) switch
    {
        0 => Pool[random.Next(Pool.Length)],
        1 => random.Next(-2000, 2000).ToString(CultureInfo.InvariantCulture),
        _ => (random.Next(-20000, 20000) / (decimal)Math.Pow(10, random.Next(1, 4))).ToString(CultureInfo.InvariantCulture),
    };

    private sealed record Case(string Type, string? Min, bool MinExclusive, string? Max, bool MaxExclusive, bool Draft4)
    {
        public JsonObject Schema(bool draft4)
        {
            var s = new JsonObject { ["type"] = Type };
            void Set(string inclusive, string exclusive, string? value, bool isExclusive)
            {
                if (value is null) return;
                var number = JsonNode.Parse(value);
                if (!isExclusive) s[inclusive] = number;
                else if (draft4) { s[inclusive] = number; s[exclusive] = true; }
                else s[exclusive] = number;
            }
            Set("minimum", "exclusiveMinimum", Min, MinExclusive);
            Set("maximum", "exclusiveMaximum", Max, MaxExclusive);
            return s;
        }

        public bool Accepts(decimal x) => Accepts(x.ToString(CultureInfo.InvariantCulture));

        /// <summary>Exact, on the number's text: a sample may have more digits than a decimal holds.</summary>
        public bool Accepts(string text)
        {
            var x = Exact(text);
            return (Type != "integer" || x % Scale == 0)
                && (Min is null || (MinExclusive ? x > Exact(Min) : x >= Exact(Min)))
                && (Max is null || (MaxExclusive ? x < Exact(Max) : x <= Exact(Max)));
        }

        public override string ToString() => $"{Type} {(MinExclusive ? "(" : "[")}{Min ?? "-inf"}, {Max ?? "inf"}{(MaxExclusive ? ")" : "]")}{(Draft4 ? " draft4" : "")}";
    }

    private static decimal Value(string text) => decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static readonly System.Numerics.BigInteger Scale = System.Numerics.BigInteger.Pow(10, 60);

    /// <summary>The value × 10^60 as an integer, read exactly from a JSON number's text (an exponent shifts the point).</summary>
    private static System.Numerics.BigInteger Exact(string text)
    {
        var exponent = 0;
        var e = text.IndexOfAny(['e', 'E']);
        if (e >= 0) { exponent = int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture); text = text[..e]; }
        var negative = text.StartsWith('-');
        var parts = text.TrimStart('-').Split('.');
        var fraction = parts.Length > 1 ? parts[1] : "";
        var digits = parts[0] + fraction;
        var shift = 60 - fraction.Length + exponent;
        var units = System.Numerics.BigInteger.Parse(digits, CultureInfo.InvariantCulture);
        units = shift >= 0 ? units * System.Numerics.BigInteger.Pow(10, shift) : units / System.Numerics.BigInteger.Pow(10, -shift);
        return negative ? -units : units;
    }

    /// <summary>Whether any value fits, by the definition: some integer (or any number) within the bounds.</summary>
    private static bool Satisfiable(Case c)
    {
        decimal? lo = c.Min is null ? null : Value(c.Min), hi = c.Max is null ? null : Value(c.Max);
        if (lo is null || hi is null) return true;
        if (c.Type == "number") return lo < hi || (lo == hi && !c.MinExclusive && !c.MaxExclusive);
        var first = c.MinExclusive ? decimal.Floor(lo.Value) + 1 : decimal.Ceiling(lo.Value);
        return c.Accepts(first) && first <= hi;
    }

    [Fact]
    public void Random_bounds_generate_only_numbers_within_them()
    {
        var random = new Random(20261202);
        var options = new EvaluationOptions { OutputFormat = OutputFormat.Flag };
        var failures = new List<string>();
        var checkedCases = 0;
        var samples = 0;
        for (var n = 0; n < 400; n++)
        {
            var type = random.Next(2) == 0 ? "integer" : "number";
            var min = random.Next(5) == 0 ? null : RandomBound(random);
            var max = random.Next(5) == 0 ? null : RandomBound(random);
            if (min is not null && max is not null && Value(min) > Value(max)) (min, max) = (max, min);
            // Single points now and then: [x, x], and its exclusive forms, which are empty.
            if (random.Next(8) == 0 && min is not null) max = min;
            var c = new Case(type, min, random.Next(3) == 0, max, random.Next(3) == 0, random.Next(2) == 0);
            var schema = c.Schema(c.Draft4);

            if (!Satisfiable(c))
            {
                var ex = Record.Exception(() => JsonSchemaGrammar.Compile(schema));
                if (ex is not UnsupportedSchemaException) failures.Add($"{c}: no value fits, expected a refusal, got {ex?.GetType().Name ?? "a grammar"}");
                continue;
            }

            string gbnf;
            try { gbnf = JsonSchemaGrammar.Compile(schema); }
            catch (UnsupportedSchemaException ex) { failures.Add($"{c}: refused: {ex.Message}"); continue; }
            checkedCases++;
            var grammar = new Gbnf(gbnf);
            var validator = JsonSchema.FromText(c.Schema(draft4: false).ToJsonString());
            for (var seed = 0; seed < 60; seed++)
            {
                var text = grammar.Sample(new Random(seed * 7919 + n));
                samples++;
                JsonNode? node;
                try { node = JsonNode.Parse(text); }
                catch (JsonException) { failures.Add($"{c}: '{text}' is not JSON"); break; }
                if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) { failures.Add($"{c}: '{text}' is not a number"); break; }
                using var doc = JsonDocument.Parse(text);
                var digits = text.Count(char.IsAsciiDigit);
                // JsonSchema.Net compares as decimal (28 digits); the exact check covers longer samples.
                if ((digits <= 26 && !validator.Evaluate(doc.RootElement, options).IsValid) || !c.Accepts(text))
                {
                    failures.Add($"{c}: '{text}' is outside the bounds\n{gbnf}");
                    break;
                }
                // JS clients read numbers as doubles: the digits generated stay within what they parse.
                if (!double.IsFinite(double.Parse(text, CultureInfo.InvariantCulture))) failures.Add($"{c}: '{text}' overflows a double");
            }

            // The grammar is not too narrow: the bounds are in it exactly when inclusive (and integral for integers).
            var language = grammar.ToRegex();
            foreach (var (bound, exclusive) in new[] { (c.Min, c.MinExclusive), (c.Max, c.MaxExclusive) })
            {
                if (bound is null) continue;
                var canonical = Value(bound).ToString(CultureInfo.InvariantCulture);
                if (canonical.Contains('.')) canonical = canonical.TrimEnd('0').TrimEnd('.');
                if (canonical == "-0") canonical = "0";
                if (language.IsMatch(canonical) != c.Accepts(Value(canonical)))
                    failures.Add($"{c}: the bound {canonical} is {(language.IsMatch(canonical) ? "in" : "not in")} the grammar, exclusive: {exclusive}\n{gbnf}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures.Take(5)));
        Assert.True(checkedCases > 250, $"only {checkedCases} satisfiable cases");
        Assert.True(samples > 15000);
    }

    [Theory]
    [InlineData("integer", "0.5", false, "0.5", false)]
    [InlineData("integer", "1", true, "2", true)]
    [InlineData("number", "0.5", true, "0.5", false)]
    [InlineData("number", "3", false, "2.5", false)]
    public void Bounds_that_no_value_fits_are_refused(string type, string min, bool minExclusive, string max, bool maxExclusive)
    {
        var schema = new Case(type, min, minExclusive, max, maxExclusive, false).Schema(false);
        var ex = Assert.Throws<UnsupportedSchemaException>(() => JsonSchemaGrammar.Compile(schema));
        Assert.Equal("/maximum", ex.Path);
    }

    [Fact]
    public void Zod_v4_int_bounds_are_the_whole_safe_range()
    {
        var grammar = new Gbnf(JsonSchemaGrammar.Compile(JsonNode.Parse($$"""{"type":"integer","minimum":-{{MaxSafe}},"maximum":{{MaxSafe}}}""")!));
        var language = grammar.ToRegex();
        Assert.Matches(language, MaxSafe);
        Assert.Matches(language, "-" + MaxSafe);
        Assert.Matches(language, "0");
        Assert.DoesNotMatch(language, "9007199254740992");
        Assert.DoesNotMatch(language, "-9007199254740992");
        Assert.DoesNotMatch(language, "-0");
        Assert.DoesNotMatch(language, "1.5");
    }

    [Fact]
    public void A_point_interval_generates_only_its_point()
    {
        var grammar = new Gbnf(JsonSchemaGrammar.Compile(JsonNode.Parse("""{"type":"number","minimum":0.5,"maximum":0.5}""")!));
        for (var seed = 0; seed < 50; seed++) Assert.Equal("0.5", grammar.Sample(new Random(seed)));
    }

    [Fact]
    public void Format_int32_bounds_an_integer()
    {
        var language = new Gbnf(JsonSchemaGrammar.Compile(JsonNode.Parse("""{"type":"integer","format":"int32"}""")!)).ToRegex();
        Assert.Matches(language, "2147483647");
        Assert.Matches(language, "-2147483648");
        Assert.DoesNotMatch(language, "2147483648");
    }

    [Theory]
    [InlineData("""{"type":"number","minimum":1e400}""", "/minimum")]
    [InlineData("""{"type":"number","minimum":"abc"}""", "/minimum")]
    [InlineData("""{"type":"number","exclusiveMinimum":true}""", "/exclusiveMinimum")]
    public void Unusable_bounds_are_refused_with_their_path(string schema, string path)
    {
        var ex = Assert.Throws<UnsupportedSchemaException>(() => JsonSchemaGrammar.Compile(JsonNode.Parse(schema)!));
        Assert.Equal(path, ex.Path);
    }
}
