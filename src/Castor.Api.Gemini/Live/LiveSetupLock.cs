using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Castor.Api.Gemini.Wire;
using Castor.Application.Errors;

namespace Castor.Api.Gemini.Live;

/// <summary>
/// The setup an ephemeral token locks, applied to the client's setup the way the API documents <c>fieldMask</c>:
/// no mask and no setup: the client's setup as sent; no mask but a setup: the token's setup, the client's ignored;
/// a mask: each named field takes the token's value (or is cleared when the token's setup lacks it).
/// </summary>
internal sealed class LiveSetupLock(string? setupJson, IReadOnlyList<string> mask)
{
    public static LiveSetupLock From(string? setupJson, string? fieldMask) => new(setupJson, ParseMask(fieldMask));

    public LiveSetup Apply(LiveSetup client)
    {
        if (setupJson is null && mask.Count == 0) return client;
        if (mask.Count == 0) return Deserialize(JsonNode.Parse(setupJson!)!.AsObject());

        var merged = JsonSerializer.SerializeToNode(client, GeminiJson.TypeInfo<LiveSetup>())!.AsObject();
        var locked = setupJson is null ? new JsonObject() : JsonNode.Parse(setupJson)!.AsObject();
        foreach (var path in mask)
        {
            var segments = path.Split('.');
            var value = Find(locked, segments);
            var parent = merged;
            for (var i = 0; i < segments.Length - 1; i++)
            {
                if (parent[segments[i]] is not JsonObject child)
                {
                    if (value is null) { parent = null; break; }
                    child = new JsonObject();
                    parent[segments[i]] = child;
                }
                parent = child;
            }
            if (parent is null) continue;
            if (value is null) parent.Remove(segments[^1]);
            else parent[segments[^1]] = value.DeepClone();
        }
        return Deserialize(merged);
    }

    private static JsonNode? Find(JsonObject root, string[] segments)
    {
        JsonNode? node = root;
        foreach (var segment in segments)
            node = node is JsonObject o ? o[segment] : null;
        return node;
    }

    private static LiveSetup Deserialize(JsonObject setup) =>
        setup.Deserialize(GeminiJson.TypeInfo<LiveSetup>()) ?? new LiveSetup();

    /// <summary>
    /// <c>fieldMask</c>: a comma list of dotted field paths, camelCase or snake_case (the SDK sends camelCase and may repeat a
    /// path). Returns the distinct camelCase paths; an empty or absent mask is an empty list.
    /// </summary>
    public static IReadOnlyList<string> ParseMask(string? fieldMask)
    {
        var paths = new List<string>();
        foreach (var raw in (fieldMask ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var segments = raw.Split('.');
            if (segments.Any(s => s.Length == 0 || !s.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')))
                throw CastorException.InvalidField("fieldMask", $"'{raw}' is not a field path; use dotted setup field names such as \"generationConfig.temperature\".");
            var path = string.Join('.', segments.Select(CamelCase));
            if (!paths.Contains(path)) paths.Add(path);
        }
        return paths;
    }

    private static string CamelCase(string segment)
    {
        if (!segment.Contains('_')) return segment;
        var text = new StringBuilder(segment.Length);
        var upper = false;
        foreach (var c in segment)
        {
            if (c == '_') { upper = text.Length > 0; continue; }
            text.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        return text.ToString();
    }
}
