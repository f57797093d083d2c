using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.Robustness;

/// <summary>
/// A JSON tree that can say what <see cref="JsonNode"/> cannot: raw (possibly invalid) tokens such as <c>NaN</c> or
/// <c>1e999</c>, and duplicate keys. Raw tokens are string values carrying <see cref="RawMarker"/>; duplicates sit beside
/// the object they belong to and are written after its own properties.
/// </summary>
public sealed class MutableJson(JsonNode? root)
{
    private const string RawMarker = "\uE000raw:";

    public JsonNode? Root { get; set; } = root;

    private readonly Dictionary<JsonObject, List<KeyValuePair<string, JsonNode?>>> _duplicates = new(ReferenceEqualityComparer.Instance);

    public static MutableJson Parse(string json) => new(JsonNode.Parse(json));

    /// <summary>A value written verbatim, valid JSON or not.</summary>
    public static JsonNode Raw(string text) => JsonValue.Create(RawMarker + text)!;

    public void AddDuplicate(JsonObject target, string key, JsonNode? value)
    {
        if (!_duplicates.TryGetValue(target, out var list)) _duplicates[target] = list = [];
        list.Add(new(key, value));
    }

    /// <summary>One place a value sits: a property of an object, an element of an array, or the root.</summary>
    public readonly record struct Location(JsonNode? Parent, string? Key, int Index, JsonNode? Value, string Path);

    public List<Location> Locations()
    {
        var list = new List<Location> { new(null, null, -1, Root, "$") };
        Walk(Root, "$", list);
        return list;
    }

    private static void Walk(JsonNode? node, string path, List<Location> list)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    var child = $"{path}.{key}";
                    list.Add(new(obj, key, -1, value, child));
                    Walk(value, child, list);
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    var child = $"{path}[{i}]";
                    list.Add(new(array, null, i, array[i], child));
                    Walk(array[i], child, list);
                }
                break;
        }
    }

    public void Set(Location at, JsonNode? value)
    {
        switch (at.Parent)
        {
            case JsonObject obj: obj[at.Key!] = value; break;
            case JsonArray array: array[at.Index] = value; break;
            default: Root = value; break;
        }
    }

    public void Remove(Location at)
    {
        switch (at.Parent)
        {
            case JsonObject obj: obj.Remove(at.Key!); break;
            case JsonArray array: array.RemoveAt(at.Index); break;
            default: Root = new JsonObject(); break;
        }
    }

    public byte[] ToBytes()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions
               {
                   SkipValidation = true,
                   Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
               }))
        {
            Write(writer, Root);
        }
        return buffer.ToArray();
    }

    private void Write(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var (key, value) in obj)
                {
                    writer.WritePropertyName(key);
                    Write(writer, value);
                }
                if (_duplicates.TryGetValue(obj, out var duplicates))
                {
                    foreach (var (key, value) in duplicates)
                    {
                        writer.WritePropertyName(key);
                        Write(writer, value);
                    }
                }
                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array) Write(writer, item);
                writer.WriteEndArray();
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is var s && s.StartsWith(RawMarker, StringComparison.Ordinal):
                writer.WriteRawValue(s[RawMarker.Length..], skipInputValidation: true);
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }
}
