using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Castor.Engine.Grammars;
using Json.Schema;

namespace Castor.UnitTests.Grammars;

/// <summary>
/// Each pattern is compiled as a JSON Schema string with that pattern; random sentences of the grammar must be JSON
/// strings whose value the .NET regex matches (and JsonSchema.Net accepts).
/// </summary>
public sealed class RegexGrammarTests
{
    // What zod 4.6's z.toJSONSchema writes for z.email(), z.uuid(), z.iso.datetime(), z.iso.date(), z.cuid(), z.ipv4().
    public const string ZodEmail = @"^(?:[A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$";
    public const string ZodUuid = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$";
    public const string ZodDateTime = @"^(?:(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|(?:02)-(?:0[1-9]|1\d|2[0-8])))T(?:(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z))$";
    public const string ZodDate = @"^(?:(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|(?:02)-(?:0[1-9]|1\d|2[0-8])))$";
    public const string ZodCuid = "^[cC][0-9a-z]{6,}$";
    public const string ZodIpv4 = @"^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$";

    [Theory]
    [InlineData(ZodEmail)]
    [InlineData(ZodUuid)]
    [InlineData(ZodDateTime)]
    [InlineData(ZodDate)]
    [InlineData(ZodCuid)]
    [InlineData(ZodIpv4)]
    [InlineData("^[a-z]+$")]
    [InlineData("abc")]
    [InlineData(@"^(foo|bar)+\d{2,4}$")]
    [InlineData(@"^[^\s@]+@[^\s@]+\.[^\s@]+$")]
    [InlineData(@"^\+?[0-9]{7,15}$")]
    [InlineData(@"^""quoted\\path""\t$")]
    [InlineData(@"^[\u00e9-\u00ff]{3}\x41$")]
    [InlineData("^a.c$")]
    [InlineData(@"^(?<year>\d{4})-(?:0[1-9]|1[0-2])$")]
    [InlineData("^$|^x$")]
    [InlineData(@"^\w+\s\W\S\D$")]
    [InlineData(@"^[A-Z]{2}-\d{3,}?$")]
    [InlineData(@"^[-a-c\]\\/.]{1,3}\.\/\{x}$")]
    [InlineData("^(a|)b*$")]
    public void Random_sentences_of_the_translated_pattern_match_it(string pattern)
    {
        var schema = new JsonObject { ["type"] = "string", ["pattern"] = pattern };
        var grammar = new Gbnf(JsonSchemaGrammar.Compile(schema));
        // ECMA-262 semantics (ASCII \w, \d and \s), as JSON Schema defines pattern.
        var regex = new Regex(pattern, RegexOptions.ECMAScript);
        var validator = JsonSchema.FromText(schema.ToJsonString());
        for (var seed = 0; seed < 300; seed++)
        {
            var json = grammar.Sample(new Random(seed));
            var value = JsonNode.Parse(json)!.GetValue<string>();
            Assert.True(regex.IsMatch(value), $"{json} does not match {pattern}");
            using var doc = JsonDocument.Parse(json);
            Assert.True(validator.Evaluate(doc.RootElement).IsValid, json);
        }
    }

    [Fact]
    public void Zod_v4_formats_with_their_patterns_compile()
    {
        // z.email() through the AI SDK 4: format and pattern both; the pattern is enforced.
        var schema = JsonNode.Parse($$"""{"type":"string","format":"email","pattern":{{JsonSerializer.Serialize(ZodEmail)}}}""")!;
        var grammar = new Gbnf(JsonSchemaGrammar.Compile(schema));
        for (var seed = 0; seed < 100; seed++)
            Assert.Matches(ZodEmail, JsonNode.Parse(grammar.Sample(new Random(seed)))!.GetValue<string>());
        JsonSchemaGrammar.Compile(JsonNode.Parse($$"""{"type":"string","format":"cuid","pattern":{{JsonSerializer.Serialize(ZodCuid)}}}""")!);
    }

    [Theory]
    [InlineData(@"(a)\1", "backreference")]
    [InlineData("(?=a)a", "lookahead")]
    [InlineData(@"^(?!\.)(?!.*\.\.)[a-z.]+$", "lookahead")]
    [InlineData("(?<=a)b", "lookbehind")]
    [InlineData(@"\bword\b", "word boundary")]
    [InlineData("(?i)abc", "inline flags")]
    [InlineData(@"\p{L}+", "Unicode property")]
    [InlineData("a^b", "anchor")]
    [InlineData("a$b", "anchor")]
    [InlineData("a{3,2}", "maximum is below")]
    [InlineData("(ab", "unterminated")]
    [InlineData("a{5000}", "repetition")]
    public void Constructs_outside_the_regular_subset_are_refused_naming_them(string pattern, string named)
    {
        var ex = Assert.Throws<UnsupportedSchemaException>(() => JsonSchemaGrammar.Compile(new JsonObject { ["type"] = "string", ["pattern"] = pattern }));
        Assert.Equal("/pattern", ex.Path);
        Assert.Contains(named, ex.Message);
    }

    [Fact]
    public void Length_limits_beside_a_pattern_are_kept_when_every_match_meets_them()
    {
        JsonSchemaGrammar.Compile(JsonNode.Parse("""{"type":"string","pattern":"^[a-z]{2,5}$","minLength":1,"maxLength":8}""")!);
        var ex = Assert.Throws<UnsupportedSchemaException>(() => JsonSchemaGrammar.Compile(JsonNode.Parse("""{"type":"string","pattern":"^[a-z]+$","maxLength":8}""")!));
        Assert.Equal("/pattern", ex.Path);
    }

    [Fact]
    public void Format_length_limits_that_the_format_meets_are_accepted()
    {
        // Pydantic's HttpUrl: {"format":"uri","minLength":1,"maxLength":2083}.
        JsonSchemaGrammar.Compile(JsonNode.Parse("""{"type":"string","format":"uri","minLength":1,"maxLength":2083}""")!);
        var ex = Assert.Throws<UnsupportedSchemaException>(() => JsonSchemaGrammar.Compile(JsonNode.Parse("""{"type":"string","format":"email","maxLength":10}""")!));
        Assert.Equal("/format", ex.Path);
    }

    [Theory]
    // zod's z.tuple([z.string(), z.number()]), and one with a rest element.
    [InlineData("""{"type":"array","prefixItems":[{"type":"string"},{"type":"integer","minimum":1,"maximum":3}],"items":false,"minItems":2,"maxItems":2}""")]
    [InlineData("""{"type":"array","prefixItems":[{"type":"boolean"}],"items":{"type":"integer"},"minItems":1}""")]
    // zod's z.record(z.string(), z.number()).
    [InlineData("""{"type":"object","propertyNames":{"type":"string"},"additionalProperties":{"type":"number"}}""")]
    public void Tuples_and_records_as_zod_writes_them_validate(string schemaText)
    {
        var grammar = new Gbnf(JsonSchemaGrammar.Compile(JsonNode.Parse(schemaText)!));
        var validator = JsonSchema.FromText(schemaText);
        for (var seed = 0; seed < 200; seed++)
        {
            var json = grammar.Sample(new Random(seed), "root");
            using var doc = JsonDocument.Parse(json);
            Assert.True(validator.Evaluate(doc.RootElement).IsValid, json);
        }
    }

    [Theory]
    [InlineData("""{"type":"object","propertyNames":{"pattern":"^a"},"additionalProperties":true}""", "/propertyNames")]
    [InlineData("""{"type":"array","prefixItems":[{"type":"string"}],"minItems":0}""", "/minItems")]
    public void Unenforceable_tuple_and_name_constraints_are_refused(string schema, string path)
    {
        var ex = Assert.Throws<UnsupportedSchemaException>(() => JsonSchemaGrammar.Compile(JsonNode.Parse(schema)!));
        Assert.Equal(path, ex.Path);
    }
}

public sealed class EmailFormatTests
{
    // ajv-formats' "email" (fast mode), which Genkit validates output with: no "..", labels without edge hyphens.
    private static readonly Regex AjvEmail = new(@"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.IgnoreCase);

    [Fact]
    public void Format_email_alone_generates_addresses_that_ajv_and_zod_accept()
    {
        var grammar = new Gbnf(JsonSchemaGrammar.Compile(JsonNode.Parse("""{"type":"string","format":"email"}""")!));
        for (var seed = 0; seed < 500; seed++)
        {
            var value = JsonNode.Parse(grammar.Sample(new Random(seed)))!.GetValue<string>();
            Assert.Matches(AjvEmail, value);
            Assert.Matches(RegexGrammarTests.ZodEmail, value);
        }
    }
}
