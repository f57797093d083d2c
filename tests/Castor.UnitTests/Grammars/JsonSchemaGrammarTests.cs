using System.Text.Json.Nodes;
using Castor.Engine.Grammars;

namespace Castor.UnitTests.Grammars;

public sealed class JsonSchemaGrammarTests
{
    private static string Compile(string schema, PropertyOrder order = PropertyOrder.Declared) =>
        JsonSchemaGrammar.Compile(JsonNode.Parse(schema)!, order);

    [Fact]
    public void Properties_follow_the_declared_order_for_json_schema()
    {
        var gbnf = Compile("""{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"type":"integer"}},"required":["zeta","alpha"]}""");
        Assert.True(gbnf.IndexOf("\\\"zeta\\\"", StringComparison.Ordinal) < gbnf.IndexOf("\\\"alpha\\\"", StringComparison.Ordinal), gbnf);
    }

    [Fact]
    public void Gemini_schemas_are_alphabetical_unless_property_ordering_says_otherwise()
    {
        const string schema = """{"type":"OBJECT","properties":{"zeta":{"type":"STRING"},"alpha":{"type":"INTEGER"}},"required":["zeta","alpha"]}""";
        var alphabetical = Compile(schema, PropertyOrder.Alphabetical);
        Assert.True(alphabetical.IndexOf("\\\"alpha\\\"", StringComparison.Ordinal) < alphabetical.IndexOf("\\\"zeta\\\"", StringComparison.Ordinal));

        var ordered = Compile(schema.Replace("\"required\"", "\"propertyOrdering\":[\"zeta\",\"alpha\"],\"required\""), PropertyOrder.Alphabetical);
        Assert.True(ordered.IndexOf("\\\"zeta\\\"", StringComparison.Ordinal) < ordered.IndexOf("\\\"alpha\\\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"type":"string","pattern":"^(a)\\1$"}""", "/pattern")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","pattern":"(?=x)"}}}""", "/properties/a/pattern")]
    [InlineData("""{"type":"array","items":[{"type":"string"}]}""", "/items")]
    [InlineData("""{"not":{"type":"string"}}""", "/not")]
    [InlineData("""{"type":"integer","multipleOf":3}""", "/multipleOf")]
    [InlineData("""{"$ref":"https://example.com/schema.json"}""", "/$ref")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string"}},"required":["b"]}""", "/required")]
    [InlineData("""{"type":"array","items":{"type":"string"},"maxItems":100000}""", "/maxItems")]
    [InlineData("""{"type":5}""", "/")]
    [InlineData("""{"type":"string","format":"iban"}""", "/format")]
    public void Keywords_that_cannot_be_enforced_are_refused_with_their_path(string schema, string path)
    {
        var ex = Assert.Throws<UnsupportedSchemaException>(() => Compile(schema));
        Assert.Equal(path, ex.Path);
    }

    [Fact]
    public void Annotations_and_supported_formats_are_accepted()
    {
        var gbnf = Compile("""{"$schema":"http://json-schema.org/draft-07/schema#","title":"T","description":"d","type":"string","format":"email","examples":["a"]}""");
        Assert.StartsWith("root ::= ", gbnf);
    }

    [Fact]
    public void Recursive_references_become_recursive_rules()
    {
        var gbnf = Compile("""
            {"$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},"next":{"$ref":"#/$defs/node"}},"required":["value"]}},
             "$ref":"#/$defs/node"}
            """);
        Assert.Contains("ref-defs-node ::=", gbnf);
        Assert.True(gbnf.Split("ref-defs-node").Length > 2, gbnf);
    }

    [Fact]
    public void Nullable_and_type_arrays_allow_null()
    {
        Assert.Contains("null", Compile("""{"type":"STRING","nullable":true}"""));
        Assert.Contains("null", Compile("""{"type":["integer","null"]}"""));
    }

    [Fact]
    public void Enums_are_exact_literals_and_plain_enums_are_unquoted()
    {
        Assert.Contains("\"\\\"Woodwind\\\"\"", Compile("""{"type":"STRING","enum":["Percussion","Woodwind"]}"""));
        Assert.Equal("root ::= \"Percussion\" | \"Woodwind\"\n", JsonSchemaGrammar.PlainEnum(["Percussion", "Woodwind"]));
    }

    [Fact]
    public void An_object_with_empty_properties_is_the_empty_object()
    {
        Assert.StartsWith("root ::= (\"{\" ws \"}\")\n", Compile("""{"type":"OBJECT","properties":{}}"""));
    }
}
