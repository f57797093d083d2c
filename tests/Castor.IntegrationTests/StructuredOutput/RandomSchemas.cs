using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.StructuredOutput;

/// <summary>
/// Random JSON Schemas of the kinds clients send: nested objects with optional properties, arrays, enums, bounded
/// numbers, nullable fields, unions, constants and references. Every string and array is bounded, so every
/// schema has finite outputs and a grammar-constrained model must finish.
/// </summary>
public sealed class RandomSchemas(int seed)
{
    private readonly Random _random = new(seed);
    private static readonly string[] Words = ["cat", "dog", "red ball", "Lily", "sun", "tree", "big box", "it's", "a\"b", "ü"];

    public JsonObject Next()
    {
        var defs = new JsonObject();
        var root = Schema(0, defs);
        if (defs.Count > 0) root["$defs"] = defs;
        return root;
    }

    private JsonObject Schema(int depth, JsonObject defs)
    {
        var roll = _random.Next(depth >= 2 ? 7 : 10);
        var schema = roll switch
        {
            0 => StringSchema(),
            1 => IntegerSchema(),
            2 => NumberSchema(),
            3 => new JsonObject { ["type"] = "boolean" },
            4 => EnumSchema(),
            5 => new JsonObject { ["const"] = Pick() },
            6 => new JsonObject { ["type"] = new JsonArray("string", "null"), ["maxLength"] = _random.Next(1, 8) },
            7 => ArraySchema(depth, defs),
            8 => ObjectSchema(depth, defs),
            _ => UnionOrReference(depth, defs),
        };
        return schema;
    }

    private JsonObject StringSchema()
    {
        var s = new JsonObject { ["type"] = "string" };
        switch (_random.Next(4))
        {
            case 0: s["format"] = new[] { "date", "uuid", "date-time", "email", "uri", "ipv4", "hostname" }[_random.Next(7)]; break;
            default:
                var min = _random.Next(3);
                s["minLength"] = min;
                s["maxLength"] = min + _random.Next(1, 10);
                break;
        }
        return s;
    }

    private JsonObject IntegerSchema()
    {
        var s = new JsonObject { ["type"] = "integer" };
        var min = _random.Next(-60, 60);
        if (_random.Next(3) > 0) s["minimum"] = min;
        if (_random.Next(3) > 0) s["maximum"] = min + _random.Next(0, 200);
        if (!s.ContainsKey("minimum") && !s.ContainsKey("maximum")) s["maximum"] = 1000;
        return s;
    }

    private JsonObject NumberSchema()
    {
        var min = _random.Next(-20, 20);
        return new JsonObject { ["type"] = "number", ["minimum"] = min, ["maximum"] = min + _random.Next(1, 50) };
    }

    private JsonObject EnumSchema()
    {
        var values = Words.OrderBy(_ => _random.Next()).Take(_random.Next(1, 5)).Select(w => (JsonNode)JsonValue.Create(w)!).ToArray();
        return new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(values) };
    }

    private JsonObject ArraySchema(int depth, JsonObject defs)
    {
        var min = _random.Next(2);
        return new JsonObject { ["type"] = "array", ["items"] = Schema(depth + 1, defs), ["minItems"] = min, ["maxItems"] = min + _random.Next(0, 3) };
    }

    private JsonObject ObjectSchema(int depth, JsonObject defs)
    {
        var properties = new JsonObject();
        var required = new JsonArray();
        var count = _random.Next(1, 5);
        for (var i = 0; i < count; i++)
        {
            var name = i switch { 0 => "name", 1 => "age", 2 => "first_name", _ => "items" } + (depth > 0 ? depth.ToString() : "");
            properties[name] = Schema(depth + 1, defs);
            if (_random.Next(2) == 0) required.Add(name);
        }
        var schema = new JsonObject { ["type"] = "object", ["properties"] = properties, ["additionalProperties"] = false };
        if (required.Count > 0) schema["required"] = required;
        return schema;
    }

    private JsonObject UnionOrReference(int depth, JsonObject defs)
    {
        if (_random.Next(2) == 0)
            return new JsonObject { ["anyOf"] = new JsonArray(Schema(depth + 1, defs), Schema(depth + 1, defs)) };
        var name = "def" + defs.Count;
        defs[name] = new JsonObject(); // reserve the name before the body can take it
        defs[name] = Schema(depth + 1, defs);
        return new JsonObject { ["$ref"] = "#/$defs/" + name };
    }

    private JsonNode Pick() => _random.Next(3) switch
    {
        0 => JsonValue.Create(Words[_random.Next(Words.Length)])!,
        1 => JsonValue.Create(_random.Next(-5, 50))!,
        _ => JsonValue.Create(true)!,
    };
}
