using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.Robustness;

/// <summary>
/// The shapes of the security review's hostile schemas (issue 11), sized by the caller: the unit tests compile them
/// directly (this file is linked there), HostileSchemas sends them through every schema route.
/// </summary>
public static class HostileSchemaShapes
{
    /// <summary>$defs d0 … d(n-1), each a reference to the next; the last an integer. The root refers to d0.</summary>
    public static JsonObject ReferenceChain(int length)
    {
        var defs = new JsonObject();
        for (var i = 0; i < length - 1; i++) defs[$"d{i}"] = new JsonObject { ["$ref"] = $"#/$defs/d{i + 1}" };
        defs[$"d{length - 1}"] = new JsonObject { ["type"] = "integer" };
        return new JsonObject { ["$defs"] = defs, ["$ref"] = "#/$defs/d0" };
    }

    /// <summary>Each level's two properties inline the next level through allOf: 2^depth copies unless bounded.</summary>
    public static JsonObject AllOfFanOut(int depth)
    {
        var defs = new JsonObject();
        for (var i = 0; i < depth; i++)
        {
            JsonObject Next() => new() { ["allOf"] = new JsonArray(new JsonObject { ["$ref"] = $"#/$defs/d{i + 1}" }) };
            defs[$"d{i}"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["a"] = Next(), ["b"] = Next() }, ["required"] = new JsonArray("a", "b") };
        }
        defs[$"d{depth}"] = new JsonObject { ["type"] = "boolean" };
        return new JsonObject { ["$defs"] = defs, ["allOf"] = new JsonArray(new JsonObject { ["$ref"] = "#/$defs/d0" }) };
    }

    /// <summary>
    /// <paramref name="levels"/> nested levels, each an anyOf of <paramref name="width"/> objects that all begin with
    /// the property "v" holding the next level, so llama.cpp cannot tell them apart until the innermost value ends.
    /// </summary>
    public static JsonObject LookAlikeAnyOf(int levels, int width)
    {
        var defs = new JsonObject();
        for (var level = 0; level < levels; level++)
        {
            var next = level + 1 < levels ? new JsonObject { ["$ref"] = $"#/$defs/l{level + 1}" } : new JsonObject { ["type"] = "integer" };
            var options = new JsonArray();
            for (var i = 0; i < width; i++)
                options.Add(new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject { ["v"] = next.DeepClone(), [$"p{i}"] = new JsonObject { ["type"] = "boolean" } },
                    ["required"] = new JsonArray("v", $"p{i}"),
                });
            defs[$"l{level}"] = new JsonObject { ["anyOf"] = options };
        }
        return new JsonObject { ["$defs"] = defs, ["$ref"] = "#/$defs/l0" };
    }

    public static JsonObject Nest(int depth, Func<JsonNode, JsonNode> wrap)
    {
        JsonNode node = new JsonObject { ["type"] = "boolean" };
        for (var i = 0; i < depth; i++) node = wrap(node);
        return (JsonObject)node;
    }
}
