using System.Text.Json.Nodes;
using Castor.Engine.Grammars;
using static Castor.IntegrationTests.Robustness.HostileSchemaShapes;

namespace Castor.UnitTests.Grammars;

/// <summary>
/// The security review's hostile schemas (issue 11): each one crashed, froze or stalled the server on the old compiler;
/// each must now be a clean <see cref="UnsupportedSchemaException"/> naming the limit and the place in the schema.
/// </summary>
public sealed class SchemaLimitsTests
{
    private static string Compile(JsonNode schema, PropertyOrder order = PropertyOrder.Declared, CancellationToken cancellationToken = default) =>
        JsonSchemaGrammar.Compile(schema, order, cancellationToken);

    private static UnsupportedSchemaException Refused(JsonNode schema) =>
        Assert.Throws<UnsupportedSchemaException>(() => Compile(schema));

    [Theory]
    [InlineData("""{"allOf":[{"$ref":"#"}]}""", "/allOf/0/$ref")]
    [InlineData("""{"$defs":{"a":{"allOf":[{"$ref":"#/$defs/b"}]},"b":{"allOf":[{"$ref":"#/$defs/a"}]}},"allOf":[{"$ref":"#/$defs/a"}]}""", "/allOf/0/$ref")]
    [InlineData("""{"type":"object","properties":{"x":{"allOf":[{"$ref":"#/properties/x"}]}}}""", "/properties/x/allOf/0/$ref")]
    [InlineData("""{"$defs":{"a":{"allOf":[{"allOf":[{"$ref":"#/$defs/a"}]}]}},"$ref":"#/$defs/a"}""", "#/$defs/a/allOf/0/$ref")]
    public void An_allOf_that_includes_itself_is_refused_as_a_cycle(string schema, string path)
    {
        var ex = Refused(JsonNode.Parse(schema)!);
        Assert.Contains("cycle", ex.Message);
        Assert.EndsWith(path, ex.Path);
    }

    [Fact]
    public void A_reference_chain_past_the_depth_limit_is_refused_and_one_within_it_compiles()
    {
        var ex = Refused(ReferenceChain(3_000));
        Assert.Contains($"{SchemaLimits.MaxDepth} levels", ex.Message);
        Assert.StartsWith("root ::= ", Compile(ReferenceChain(SchemaLimits.MaxDepth / 2 - 1)));
    }

    [Fact]
    public void A_reference_to_a_reference_that_refers_back_is_not_a_crash()
    {
        // Plain $ref cycles become recursive rules (llama.cpp refuses the left recursion later); they must terminate.
        var gbnf = Compile(JsonNode.Parse("""{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}""")!);
        Assert.Contains("ref-defs-a", gbnf);
    }

    [Fact]
    public void Nesting_ten_thousand_levels_deep_is_refused_at_the_depth_limit_whatever_the_keyword()
    {
        var nested = new Func<JsonNode, JsonNode>[]
        {
            n => new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["a"] = n } },
            n => new JsonObject { ["type"] = "array", ["items"] = n },
            n => new JsonObject { ["anyOf"] = new JsonArray(n) },
            n => new JsonObject { ["allOf"] = new JsonArray(n) },
            n => new JsonObject { ["type"] = "object", ["additionalProperties"] = n },
        };
        foreach (var wrap in nested)
        {
            var ex = Refused(Nest(10_000, wrap));
            Assert.Contains($"{SchemaLimits.MaxDepth} levels", ex.Message);
        }
    }

    [Fact]
    public void AllOf_fan_out_is_refused_at_the_expansion_limit_and_small_fan_out_compiles()
    {
        var ex = Refused(AllOfFanOut(20));
        Assert.Contains($"{SchemaLimits.MaxExpansion}", ex.Message);
        Assert.StartsWith("root ::= ", Compile(AllOfFanOut(6)));
    }

    [Fact]
    public void A_cancelled_compilation_stops()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => Compile(AllOfFanOut(6), cancellationToken: cancelled.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => JsonSchemaGrammar.CompileMany([(AllOfFanOut(6), "f")], r => r[0], cancellationToken: cancelled.Token));
    }

    [Fact]
    public void The_review_s_eight_levels_of_four_look_alike_alternatives_are_refused_naming_the_limit()
    {
        var ex = Refused(LookAlikeAnyOf(8, 4));
        Assert.Contains($"at most {SchemaLimits.MaxParsePaths}", ex.Message);
        Assert.EndsWith("/anyOf", ex.Path);
        // Two levels (4^2 = 16 paths) are within the limit.
        Assert.StartsWith("root ::= ", Compile(LookAlikeAnyOf(2, 4)));
    }

    [Fact]
    public void Look_alike_alternatives_that_recurse_are_refused()
    {
        var ex = Refused(JsonNode.Parse("""
            {"anyOf":[{"type":"object","properties":{"v":{"$ref":"#"},"a":{"type":"string"}},"required":["v"]},
                      {"type":"object","properties":{"v":{"$ref":"#"},"b":{"type":"string"}},"required":["v"]}]}
            """)!);
        Assert.Contains("recurses", ex.Message);
    }

    [Fact]
    public void Alternatives_told_apart_by_their_first_text_may_nest_and_recurse()
    {
        // Discriminated unions (a const first property), nullable objects and expression trees are common and cheap.
        var defs = new JsonObject();
        for (var level = 0; level < 12; level++)
        {
            JsonNode next = level < 11 ? new JsonObject { ["$ref"] = $"#/$defs/l{level + 1}" } : new JsonObject { ["type"] = "integer" };
            var options = new JsonArray();
            foreach (var kind in new[] { "a", "b", "c", "d" })
                options.Add(new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject { ["kind"] = new JsonObject { ["const"] = kind }, ["v"] = next.DeepClone() },
                    ["required"] = new JsonArray("kind", "v"),
                });
            defs[$"l{level}"] = new JsonObject { ["anyOf"] = options, ["nullable"] = true };
        }
        var discriminated = new JsonObject { ["$defs"] = defs, ["$ref"] = "#/$defs/l0" };
        Assert.StartsWith("root ::= ", Compile(discriminated));

        Assert.StartsWith("root ::= ", Compile(JsonNode.Parse("""
            {"$defs":{"expr":{"anyOf":[
               {"type":"object","properties":{"and":{"type":"array","items":{"$ref":"#/$defs/expr"}}},"required":["and"]},
               {"type":"object","properties":{"or":{"type":"array","items":{"$ref":"#/$defs/expr"}}},"required":["or"]},
               {"type":"object","properties":{"field":{"type":"string"},"equals":{"type":"string"}},"required":["field","equals"]},
               {"type":"null"}]}},
             "$ref":"#/$defs/expr"}
            """)!));
    }

    [Fact]
    public void A_grammar_over_the_size_limit_is_refused()
    {
        var values = new JsonArray();
        for (var i = 0; i < 300; i++) values.Add(new string('x', 10_000) + i);
        var ex = Refused(new JsonObject { ["type"] = "string", ["enum"] = values });
        Assert.Contains($"at most {SchemaLimits.MaxGrammarChars}", ex.Message);
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string"}},"required":[null]}""", "/required")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string"}},"required":["a",5]}""", "/required")]
    [InlineData("""{"type":"OBJECT","properties":{"a":{"type":"STRING"}},"propertyOrdering":[null]}""", "/propertyOrdering")]
    [InlineData("""{"type":["string",null]}""", "/type")]
    [InlineData("""{"type":"object","properties":{"a":{"type":[null]}}}""", "/properties/a/type")]
    public void A_null_inside_a_keyword_list_is_refused_naming_the_keyword(string schema, string path)
    {
        var ex = Refused(JsonNode.Parse(schema)!);
        Assert.Equal(path, ex.Path);
        Assert.Contains("must list strings", ex.Message);
    }

    [Theory]
    [InlineData("minLength")]
    [InlineData("maxLength")]
    public void String_lengths_stop_below_llama_cpp_s_repetition_limit(string keyword)
    {
        var ex = Refused(new JsonObject { ["type"] = "string", [keyword] = 2000 });
        Assert.Equal("/" + keyword, ex.Path);
        Assert.StartsWith("root ::= ", Compile(new JsonObject { ["type"] = "string", [keyword] = SchemaLimits.MaxRepetition }));
    }

    [Fact]
    public void Identical_alternatives_are_written_once()
    {
        var gbnf = Compile(JsonNode.Parse("""{"anyOf":[{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]},{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}]}""")!);
        Assert.DoesNotContain("|", gbnf.Split('\n')[0]);
    }
}
