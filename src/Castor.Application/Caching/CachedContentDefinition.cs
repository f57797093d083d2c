using System.Text.Json;
using System.Text.Json.Nodes;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Tools;

namespace Castor.Application.Caching;

/// <summary>
/// A cache's prefix (contents, system instruction, tools, tool config) as stored JSON, in Castor's own layout (not a
/// wire's): what the KV is computed from again when no snapshot fits, and what requests that use the cache put first.
/// </summary>
internal sealed record CachedContentDefinition(
    IReadOnlyList<Content> Contents,
    Content? SystemInstruction,
    IReadOnlyList<FunctionDeclaration> Tools,
    ToolChoice? ToolChoice)
{
    public string ToJson()
    {
        var root = new JsonObject
        {
            ["contents"] = new JsonArray(Contents.Select(WriteContent).ToArray<JsonNode?>()),
            ["tools"] = new JsonArray(Tools.Select(t => (JsonNode?)new JsonObject
            {
                ["name"] = t.Name,
                ["description"] = t.Description,
                ["parameters"] = t.Parameters?.DeepClone(),
                ["path"] = t.Path.ToString(),
            }).ToArray()),
        };
        if (SystemInstruction is not null) root["systemInstruction"] = WriteContent(SystemInstruction);
        if (ToolChoice is not null)
            root["toolChoice"] = new JsonObject
            {
                ["mode"] = ToolChoice.Mode.ToString(),
                ["allowed"] = ToolChoice.AllowedFunctionNames is { } names ? new JsonArray(names.Select(n => (JsonNode?)n).ToArray()) : null,
            };
        return root.ToJsonString();
    }

    public static CachedContentDefinition FromJson(string json)
    {
        var root = JsonNode.Parse(json)!.AsObject();
        var contents = root["contents"]!.AsArray().Select(c => ReadContent(c!)).ToList();
        var system = root["systemInstruction"] is { } s ? ReadContent(s) : null;
        var tools = root["tools"]!.AsArray().Select(t => new FunctionDeclaration((string)t!["name"]!, (string?)t["description"], t["parameters"]?.DeepClone())
        {
            Path = FieldPath.Parse((string?)t["path"] ?? "tools"),
        }).ToList();
        ToolChoice? choice = null;
        if (root["toolChoice"] is { } c)
            choice = new ToolChoice(Enum.Parse<FunctionCallingMode>((string)c["mode"]!),
                c["allowed"] is JsonArray allowed ? allowed.Select(n => (string)n!).ToList() : null);
        return new CachedContentDefinition(contents, system, tools, choice);
    }

    private static JsonObject WriteContent(Content content) => new()
    {
        ["role"] = content.Role,
        ["parts"] = new JsonArray(content.Parts.Select(WritePart).ToArray<JsonNode?>()),
    };

    private static Content ReadContent(JsonNode node) =>
        new((string)node["role"]!, node["parts"]!.AsArray().Select(p => ReadPart(p!)).ToList());

    private static JsonObject WritePart(Part part)
    {
        var o = part switch
        {
            TextPart t => new JsonObject { ["kind"] = "text", ["text"] = t.Text, ["thought"] = t.Thought },
            InlineDataPart i => new JsonObject { ["kind"] = "inlineData", ["mimeType"] = i.MimeType, ["data"] = i.Base64Data },
            FileDataPart f => new JsonObject { ["kind"] = "fileData", ["mimeType"] = f.MimeType, ["fileUri"] = f.FileUri },
            FunctionCallPart c => new JsonObject { ["kind"] = "functionCall", ["name"] = c.Name, ["args"] = Node(c.Args), ["id"] = c.Id },
            FunctionResponsePart r => new JsonObject { ["kind"] = "functionResponse", ["name"] = r.Name, ["response"] = Node(r.Response), ["id"] = r.Id },
            OtherPart other => new JsonObject { ["kind"] = "other", ["other"] = other.Kind },
            _ => throw new NotSupportedException($"A part of type {part.GetType().Name} cannot be stored."),
        };
        if (part.ThoughtSignature is not null) o["thoughtSignature"] = part.ThoughtSignature;
        return o;
    }

    private static Part ReadPart(JsonNode p)
    {
        Part part = (string)p["kind"]! switch
        {
            "text" => new TextPart((string)p["text"]!) { Thought = (bool?)p["thought"] ?? false },
            "inlineData" => new InlineDataPart((string)p["mimeType"]!, (string)p["data"]!),
            "fileData" => new FileDataPart((string?)p["mimeType"], (string)p["fileUri"]!),
            "functionCall" => new FunctionCallPart((string)p["name"]!, Element(p["args"]), (string?)p["id"]),
            "functionResponse" => new FunctionResponsePart((string)p["name"]!, Element(p["response"]), (string?)p["id"]),
            _ => new OtherPart((string?)p["other"] ?? "unknown"),
        };
        return part with { ThoughtSignature = (string?)p["thoughtSignature"] };
    }

    private static JsonNode? Node(JsonElement? element) => element is { } e ? JsonNode.Parse(e.GetRawText()) : null;

    private static JsonElement? Element(JsonNode? node) => node is null ? null : JsonDocument.Parse(node.ToJsonString()).RootElement.Clone();
}
