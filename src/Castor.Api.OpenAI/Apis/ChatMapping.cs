using System.Text.Json;
using System.Text.Json.Nodes;
using Castor.Api.OpenAI.Wire;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Tools;

namespace Castor.Api.OpenAI.Apis;

/// <summary>
/// Translates an OpenAI chat completion request into the one internal <see cref="GenerationRequest"/> (the same
/// service then applies the Gemini API's rules), and the service's field paths in errors into OpenAI's names.
/// </summary>
internal static class ChatMapping
{
    /// <summary>The translated request, plus how the content list lines up with <c>messages</c> for error messages.</summary>
    public sealed record Mapped(GenerationRequest Request, bool Stream, bool IncludeUsage, bool IncludeThoughts, IReadOnlyList<int> MessageOfContent);

    // reasoning_effort is Gemini's thinking level by another name: the service maps levels to the documented budgets
    // (low 1,024, medium 8,192, high 24,576; Minimal answers directly, as "none" and newer SDKs' "minimal" ask).
    private static readonly Dictionary<string, ThinkingLevel> ThinkingLevels = new(StringComparer.Ordinal)
    {
        ["none"] = ThinkingLevel.Minimal, ["minimal"] = ThinkingLevel.Minimal, ["low"] = ThinkingLevel.Low,
        ["medium"] = ThinkingLevel.Medium, ["high"] = ThinkingLevel.High,
    };

    public static Mapped ToGenerationRequest(ChatCompletionRequest wire)
    {
        if (string.IsNullOrWhiteSpace(wire.Model))
            throw CastorException.InvalidField("model", "model is required; name a Gemini model such as gemini-2.5-flash.");
        if (wire.Messages is not { Count: > 0 } messages)
            throw CastorException.InvalidField("messages", "messages is required and must not be empty.");

        RejectUnsupported(wire);

        var (system, contents, messageOfContent) = MapMessages(messages);
        var (tools, toolChoice) = MapTools(wire.Tools, wire.ToolChoice);
        var google = GoogleExtensions(wire);
        var thinking = Thinking(wire.ReasoningEffort, google);

        var config = new GenerationConfig
        {
            Temperature = wire.Temperature,
            TopP = wire.TopP,
            CandidateCount = wire.N,
            MaxOutputTokens = wire.MaxCompletionTokens ?? wire.MaxTokens,
            StopSequences = Stop(wire.Stop),
            Seed = wire.Seed,
            PresencePenalty = wire.PresencePenalty,
            FrequencyPenalty = wire.FrequencyPenalty,
            ResponseLogprobs = wire.Logprobs,
            Logprobs = wire.TopLogprobs,
            ThinkingConfig = thinking,
            ResponseFormat = MapResponseFormat(wire.ResponseFormat),
        };

        string? cached = null;
        if (google is { } g && g.TryGetProperty("cached_content", out var cc) && cc.ValueKind != JsonValueKind.Null)
            cached = cc.ValueKind == JsonValueKind.String ? cc.GetString() : throw CastorException.InvalidField("extra_body.google.cached_content", "must be a cachedContents/… name.");

        var request = new GenerationRequest
        {
            Model = wire.Model,
            Contents = contents,
            SystemInstruction = system,
            Config = config,
            Tools = tools,
            ToolChoice = toolChoice,
            CachedContent = cached,
            ParallelFunctionCalls = wire.ParallelToolCalls != false,
        };
        return new Mapped(request, wire.Stream == true, wire.StreamOptions?.IncludeUsage == true, thinking?.IncludeThoughts == true, messageOfContent);
    }

    private static void RejectUnsupported(ChatCompletionRequest wire)
    {
        if (wire.LogitBias is { ValueKind: JsonValueKind.Object } bias && bias.EnumerateObject().Any())
            throw CastorException.Unsupported("logit_bias", "Logit bias");
        if (wire.Modalities?.FirstOrDefault(m => !string.Equals(m, "text", StringComparison.OrdinalIgnoreCase)) is { } modality)
            throw CastorException.InvalidField("modalities", $"'{modality}' output is not supported by this model; it answers with text only.");
        if (wire.Audio is { ValueKind: not JsonValueKind.Null })
            throw CastorException.InvalidField("audio", "audio output is not supported by this model; it answers with text only.");
        if (wire.WebSearchOptions is { ValueKind: not JsonValueKind.Null })
            throw CastorException.Unsupported("web_search_options", "Web search");
        if (wire.Functions is { ValueKind: not JsonValueKind.Null } || wire.FunctionCall is { ValueKind: not JsonValueKind.Null })
            throw CastorException.Unsupported(wire.Functions is { ValueKind: not JsonValueKind.Null } ? "functions" : "function_call", "The deprecated functions/function_call API (use tools and tool_choice)");
        if (wire.TopLogprobs is > 0 && wire.Logprobs != true)
            throw CastorException.InvalidField("top_logprobs", "top_logprobs needs logprobs set to true.");
    }

    private static (Content? System, List<Content> Contents, List<int> MessageOfContent) MapMessages(List<ChatMessage?> messages)
    {
        var systemParts = new List<Part>();
        var contents = new List<Content>();
        var messageOfContent = new List<int>();
        // Tool results name their call by id; the name the model needs comes from the assistant turn that made it.
        var callNames = new Dictionary<string, string>(StringComparer.Ordinal);

        for (var i = 0; i < messages.Count; i++)
        {
            var path = $"messages[{i}]";
            var message = messages[i] ?? throw CastorException.InvalidField(path, "a message must be an object, not null.");
            switch (message.Role)
            {
                case "system" or "developer":
                    systemParts.AddRange(Parts(message.Content, path + ".content", textOnly: true));
                    break;

                case "user":
                    Add(contents, messageOfContent, Content.UserRole, Parts(message.Content, path + ".content", textOnly: false), i, merge: false);
                    break;

                case "assistant":
                {
                    var parts = Parts(message.Content, path + ".content", textOnly: true, optional: true);
                    for (var j = 0; j < (message.ToolCalls?.Count ?? 0); j++)
                    {
                        var callPath = $"{path}.tool_calls[{j}]";
                        var call = message.ToolCalls![j] ?? throw CastorException.InvalidField(callPath, "a tool call must be an object.");
                        if (call.Type is not (null or "function"))
                            throw CastorException.InvalidField(callPath + ".type", $"'{call.Type}' tool calls are not supported; use function.");
                        var name = call.Function?.Name;
                        if (string.IsNullOrEmpty(name)) throw CastorException.InvalidField(callPath + ".function.name", "a tool call needs the function's name.");
                        var args = ParseArguments(call.Function!.Arguments, callPath + ".function.arguments");
                        if (!string.IsNullOrEmpty(call.Id)) callNames[call.Id] = name;
                        parts.Add(new FunctionCallPart(name, args, call.Id));
                    }
                    if (parts.Count == 0)
                        throw CastorException.InvalidField(path + ".content", "an assistant message needs content or tool_calls.");
                    Add(contents, messageOfContent, Content.ModelRole, parts, i, merge: false);
                    break;
                }

                case "tool" or "function":
                {
                    string name;
                    if (message.Role == "function")
                    {
                        name = message.Name ?? throw CastorException.InvalidField(path + ".name", "a function message needs the function's name.");
                    }
                    else if (string.IsNullOrEmpty(message.ToolCallId))
                    {
                        throw CastorException.InvalidField(path + ".tool_call_id", "a tool message needs the tool_call_id of the call it answers.");
                    }
                    else if (!callNames.TryGetValue(message.ToolCallId, out name!))
                    {
                        throw CastorException.InvalidField(path + ".tool_call_id",
                            $"'{message.ToolCallId}' does not match a tool call of an earlier assistant message.");
                    }
                    var text = string.Concat(Parts(message.Content, path + ".content", textOnly: true, optional: true).OfType<TextPart>().Select(p => p.Text));
                    // Results of one assistant turn's calls go back together, as one user turn of function responses.
                    Add(contents, messageOfContent, Content.UserRole, [new FunctionResponsePart(name, ResultObject(text), message.ToolCallId)], i, merge: true);
                    break;
                }

                default:
                    throw CastorException.InvalidField(path + ".role", $"'{message.Role}' is not a role; use system, developer, user, assistant or tool.");
            }
        }
        var system = systemParts.Count == 0 ? null : new Content(Content.UserRole, systemParts);
        return (system, contents, messageOfContent);
    }

    private static void Add(List<Content> contents, List<int> messageOfContent, string role, List<Part> parts, int message, bool merge)
    {
        if (merge && contents.Count > 0 && contents[^1].Role == role && contents[^1].Parts.All(p => p is FunctionResponsePart))
        {
            contents[^1] = contents[^1] with { Parts = [.. contents[^1].Parts, .. parts] };
            return;
        }
        contents.Add(new Content(role, parts));
        messageOfContent.Add(message);
    }

    /// <summary>Message content: a string, or an array of content parts.</summary>
    private static List<Part> Parts(JsonElement? content, string path, bool textOnly, bool optional = false)
    {
        var parts = new List<Part>();
        switch (content?.ValueKind)
        {
            case null or JsonValueKind.Null or JsonValueKind.Undefined:
                if (!optional) throw CastorException.InvalidField(path, "content is required.");
                break;
            case JsonValueKind.String:
                var text = content.Value.GetString()!;
                // An empty string is "no text" (assistant turns that only call tools send it); the service refuses empty turns.
                if (text.Length > 0) parts.Add(new TextPart(text));
                break;
            case JsonValueKind.Array:
                var j = 0;
                foreach (var item in content.Value.EnumerateArray())
                {
                    var part = ContentPart(item, $"{path}[{j++}]", textOnly);
                    if (part is not null) parts.Add(part);
                }
                break;
            default:
                throw CastorException.InvalidField(path, "content must be a string or an array of content parts.");
        }
        return parts;
    }

    private static Part? ContentPart(JsonElement item, string path, bool textOnly)
    {
        if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            throw CastorException.InvalidField(path + ".type", "a content part must be an object with a type.");
        var type = typeElement.GetString();
        switch (type)
        {
            case "text":
                return item.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String
                    ? t.GetString()!.Length == 0 ? null : new TextPart(t.GetString()!)
                    : throw CastorException.InvalidField(path + ".text", "a text part needs its text.");
            case "refusal" when textOnly:
                return null;
            case "image_url" or "input_audio" or "file" when textOnly:
                throw CastorException.InvalidField(path + ".type", $"'{type}' parts are only accepted in user messages.");
            case "image_url":
            {
                var url = item.TryGetProperty("image_url", out var image) && image.ValueKind == JsonValueKind.Object && image.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String
                    ? u.GetString()!
                    : throw CastorException.InvalidField(path + ".image_url.url", "an image_url part needs image_url.url (a data: URL or a file URI).");
                if (IsWebUrl(url))
                    throw CastorException.InvalidField(path + ".image_url.url",
                        "fetching images from URLs is not enabled on this server; send the image as a data URL (data:image/png;base64,…) or upload it with the Files API and pass its uri.");
                // detail: "low" and "high" are OpenAI's names for the same choice as mediaResolution; "auto" leaves it to the model.
                var detail = image.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                MediaResolution? resolution = detail switch
                {
                    null or "auto" => null,
                    "low" => MediaResolution.Low,
                    "high" => MediaResolution.High,
                    _ => throw CastorException.InvalidField(path + ".image_url.detail", $"'{detail}' is not a detail level; use low, high or auto."),
                };
                return DataUrlPart(url, path + ".image_url.url") switch
                {
                    InlineDataPart inline => inline with { MediaResolution = resolution },
                    FileDataPart file => file with { MediaResolution = resolution },
                    var other => other,
                };
            }
            case "input_audio":
            {
                if (!item.TryGetProperty("input_audio", out var audio) || audio.ValueKind != JsonValueKind.Object ||
                    !audio.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.String)
                    throw CastorException.InvalidField(path + ".input_audio.data", "an input_audio part needs input_audio.data (base64) and input_audio.format.");
                var format = audio.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : "wav";
                return new InlineDataPart("audio/" + format, data.GetString()!);
            }
            case "file":
            {
                if (!item.TryGetProperty("file", out var file) || file.ValueKind != JsonValueKind.Object)
                    throw CastorException.InvalidField(path + ".file", "a file part needs file.file_data or file.file_id.");
                if (file.TryGetProperty("file_data", out var fd) && fd.ValueKind == JsonValueKind.String)
                    return DataUrlPart(fd.GetString()!, path + ".file.file_data");
                if (file.TryGetProperty("file_id", out var id) && id.ValueKind == JsonValueKind.String)
                    return new FileDataPart(null, id.GetString()!);
                throw CastorException.InvalidField(path + ".file", "a file part needs file.file_data or file.file_id.");
            }
            default:
                throw CastorException.InvalidField(path + ".type", $"'{type}' is not a content part type; use text, image_url, input_audio or file.");
        }
    }

    /// <summary>
    /// An http(s) URL that is not a Files API uri (<c>…/files/{id}</c>, which the service resolves as an upload of the
    /// caller's project): fetching it would make the server a client of any address a request names.
    /// </summary>
    private static bool IsWebUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.AbsolutePath.TrimEnd('/').Split('/') is not [.., "files", _];

    /// <summary><c>data:{mime};base64,{data}</c> becomes inline data; anything else is a file reference for the service to resolve.</summary>
    private static Part DataUrlPart(string url, string path)
    {
        if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase)) return new FileDataPart(null, url);
        var comma = url.IndexOf(',');
        var header = comma < 0 ? "" : url[5..comma];
        if (comma < 0 || !header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
            throw CastorException.InvalidField(path, "a data URL must be base64-encoded: data:{mime type};base64,{data}.");
        var mime = header[..^";base64".Length];
        return new InlineDataPart(mime.Length == 0 ? "application/octet-stream" : mime, url[(comma + 1)..]);
    }

    private static JsonElement? ParseArguments(string? arguments, string path)
    {
        if (string.IsNullOrWhiteSpace(arguments)) return null;
        try
        {
            using var doc = JsonDocument.Parse(arguments);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw CastorException.InvalidField(path, "arguments must be a JSON object encoded as a string.");
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw CastorException.InvalidField(path, "arguments is not valid JSON; send the arguments object encoded as a string.");
        }
    }

    /// <summary>A function response is an object in the Gemini API: JSON objects pass as they are, anything else is wrapped.</summary>
    private static JsonElement ResultObject(string text)
    {
        JsonNode? value;
        try
        {
            value = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            value = JsonValue.Create(text);
        }
        var result = value as JsonObject ?? new JsonObject { ["result"] = value };
        using var doc = JsonDocument.Parse(result.ToJsonString());
        return doc.RootElement.Clone();
    }

    /// <summary>
    /// Each function tool becomes a function declaration that remembers it was <c>tools[i].function</c>, so errors
    /// about it name the OpenAI field; <c>tool_choice</c> becomes the same <see cref="ToolChoice"/> as Gemini's
    /// functionCallingConfig (<c>required</c> is ANY, a named function is ANY with that one name allowed).
    /// </summary>
    internal static (IReadOnlyList<FunctionDeclaration> Tools, ToolChoice? Choice) MapTools(List<JsonElement>? tools, JsonElement? toolChoice)
    {
        var declarations = new List<FunctionDeclaration>();
        var names = new List<string>();
        for (var i = 0; i < (tools?.Count ?? 0); i++)
        {
            var tool = tools![i];
            var path = FieldPath.Of("tools").Element(i);
            if (tool.ValueKind != JsonValueKind.Object) throw CastorException.InvalidField(path, "a tool must be an object.");
            var type = tool.TryGetProperty("type", out var ty) && ty.ValueKind == JsonValueKind.String ? ty.GetString() : null;
            if (type != "function")
                throw CastorException.Unsupported(path.Field("type"), $"The tool type '{type}'");
            if (!tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
                throw CastorException.InvalidField(path.Field("function"), "a function tool needs its function definition.");
            // A name that is not a string is no name: the service refuses '' as a function name, at tools[i].function.name.
            var name = function.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "";
            if (n.ValueKind == JsonValueKind.String) names.Add(name);
            var description = function.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            JsonNode? parameters = null;
            if (function.TryGetProperty("parameters", out var p) && p.ValueKind != JsonValueKind.Null)
            {
                if (p.ValueKind != JsonValueKind.Object)
                    throw CastorException.InvalidField(path.Field("function").Field("parameters"), "must be a schema object.");
                parameters = JsonNode.Parse(p.GetRawText());
            }
            declarations.Add(new FunctionDeclaration(name, description, parameters) { Path = path.Field("function") });
        }

        var mode = FunctionCallingMode.Auto;
        List<string>? allowed = null;
        switch (toolChoice?.ValueKind)
        {
            case null or JsonValueKind.Null or JsonValueKind.Undefined:
                break;
            case JsonValueKind.String:
                mode = toolChoice.Value.GetString() switch
                {
                    "auto" => FunctionCallingMode.Auto,
                    "none" => FunctionCallingMode.None,
                    "required" => FunctionCallingMode.Any,
                    var other => throw CastorException.InvalidField("tool_choice", $"'{other}' is not a tool choice; use auto, none, required or a named function."),
                };
                break;
            case JsonValueKind.Object:
                (mode, allowed) = NamedChoice(toolChoice.Value);
                break;
            default:
                throw CastorException.InvalidField("tool_choice", "tool_choice must be a string or an object.");
        }
        if (declarations.Count == 0)
        {
            if (mode == FunctionCallingMode.Any) throw CastorException.InvalidField("tool_choice", "tool_choice asks for a tool call, but no tools are given.");
            return ([], null);
        }
        if (allowed is not null)
        {
            foreach (var name in allowed)
                if (!names.Contains(name))
                    throw CastorException.InvalidField("tool_choice", $"'{name}' is not one of the functions in tools.");
            if (mode == FunctionCallingMode.Auto)
            {
                // "auto" among a subset: only the allowed functions are offered (Gemini allows a name list with ANY only).
                declarations = declarations.Where(d => allowed.Contains(d.Name)).ToList();
                allowed = null;
            }
        }
        return (declarations, new ToolChoice(mode, allowed));
    }

    /// <summary><c>{"type":"function","function":{"name":…}}</c>, or the newer <c>{"type":"allowed_tools","allowed_tools":{"mode","tools"}}</c>.</summary>
    private static (FunctionCallingMode Mode, List<string>? Allowed) NamedChoice(JsonElement choice)
    {
        var type = choice.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (type == "function")
        {
            var name = choice.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object && f.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                ? n.GetString()!
                : throw CastorException.InvalidField("tool_choice.function.name", "a named tool choice needs function.name.");
            return (FunctionCallingMode.Any, [name]);
        }
        if (type == "allowed_tools" && choice.TryGetProperty("allowed_tools", out var at) && at.ValueKind == JsonValueKind.Object)
        {
            var mode = at.TryGetProperty("mode", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : "auto";
            var names = new List<string>();
            if (at.TryGetProperty("tools", out var list) && list.ValueKind == JsonValueKind.Array)
                foreach (var tool in list.EnumerateArray())
                    if (tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("function", out var fn) && fn.ValueKind == JsonValueKind.Object &&
                        fn.TryGetProperty("name", out var nm) && nm.ValueKind == JsonValueKind.String)
                        names.Add(nm.GetString()!);
            return (mode switch
            {
                "auto" => FunctionCallingMode.Auto,
                "required" => FunctionCallingMode.Any,
                _ => throw CastorException.InvalidField("tool_choice.allowed_tools.mode", $"'{mode}' is not a mode; use auto or required."),
            }, names);
        }
        throw CastorException.InvalidField("tool_choice.type", $"'{type}' is not a tool choice type; use function.");
    }

    private static IReadOnlyList<string>? Stop(JsonElement? stop) => stop?.ValueKind switch
    {
        null or JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.String => [stop.Value.GetString()!],
        JsonValueKind.Array when stop.Value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) =>
            stop.Value.EnumerateArray().Select(e => e.GetString()!).ToList(),
        _ => throw CastorException.InvalidField("stop", "stop must be a string or an array of strings."),
    };

    /// <summary>response_format: json_object is any JSON, json_schema JSON that follows the schema; text (or none) is plain text.</summary>
    internal static ResponseFormat? MapResponseFormat(JsonElement? format)
    {
        if (format is not { ValueKind: JsonValueKind.Object } f) return null;
        var type = f.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        switch (type)
        {
            case "text":
                return null;
            case "json_object":
                return ResponseFormat.AnyJson;
            case "json_schema":
                if (!f.TryGetProperty("json_schema", out var js) || js.ValueKind != JsonValueKind.Object ||
                    !js.TryGetProperty("schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
                    throw CastorException.InvalidField("response_format.json_schema.schema", "a json_schema response format needs json_schema.schema (a JSON Schema object).");
                // strict or not, the schema is enforced while decoding: the answer always parses and validates.
                return ResponseFormat.ForJsonSchema(schema.Clone());
            default:
                throw CastorException.InvalidField("response_format.type", $"'{type}' is not a response format; use text, json_object or json_schema.");
        }
    }

    private static JsonElement? GoogleExtensions(ChatCompletionRequest wire)
    {
        if (wire.ExtraBody is { ValueKind: JsonValueKind.Object } extra)
        {
            if (extra.TryGetProperty("google", out var g) && g.ValueKind == JsonValueKind.Object) return g;
            // The docs' Python sample nests extra_body twice; after the SDK merges one level the other remains.
            if (extra.TryGetProperty("extra_body", out var inner) && inner.ValueKind == JsonValueKind.Object &&
                inner.TryGetProperty("google", out g) && g.ValueKind == JsonValueKind.Object) return g;
        }
        return wire.Google is { ValueKind: JsonValueKind.Object } top ? top : null;
    }

    private static ThinkingConfig? Thinking(string? effort, JsonElement? google)
    {
        ThinkingConfig? fromGoogle = null;
        var levelSet = false;
        if (google is { } g && (g.TryGetProperty("thinking_config", out var tc) || g.TryGetProperty("thinkingConfig", out tc)) && tc.ValueKind == JsonValueKind.Object)
        {
            int? budget = null;
            bool? include = null;
            ThinkingLevel? level = null;
            if ((tc.TryGetProperty("thinking_budget", out var b) || tc.TryGetProperty("thinkingBudget", out b)) && b.ValueKind != JsonValueKind.Null)
                budget = b.ValueKind == JsonValueKind.Number && b.TryGetInt32(out var v) ? v : throw CastorException.InvalidField("extra_body.google.thinking_config.thinking_budget", "must be an integer.");
            if ((tc.TryGetProperty("include_thoughts", out var inc) || tc.TryGetProperty("includeThoughts", out inc)) && inc.ValueKind != JsonValueKind.Null)
                include = inc.ValueKind is JsonValueKind.True or JsonValueKind.False ? inc.GetBoolean() : throw CastorException.InvalidField("extra_body.google.thinking_config.include_thoughts", "must be true or false.");
            if ((tc.TryGetProperty("thinking_level", out var lv) || tc.TryGetProperty("thinkingLevel", out lv)) && lv.ValueKind == JsonValueKind.String)
            {
                level = ThinkingLevelNames.Parse(lv.GetString()!.ToUpperInvariant(), FieldPath.Parse("extra_body.google.thinking_config.thinking_level"));
                levelSet = true;
            }
            fromGoogle = new ThinkingConfig(budget, include, level);
        }

        if (effort is null) return fromGoogle;
        if (!ThinkingLevels.TryGetValue(effort, out var effortLevel))
            throw CastorException.InvalidField("reasoning_effort", $"'{effort}' is not a reasoning effort; use none, low, medium or high.");
        if (fromGoogle is { ThinkingBudget: not null } || levelSet)
            throw CastorException.InvalidField("reasoning_effort", "reasoning_effort and extra_body.google.thinking_config set the same thing; use one of them.");
        return new ThinkingConfig(null, fromGoogle?.IncludeThoughts, effortLevel);
    }

    /// <summary>
    /// The service names fields in the internal model's words (<c>generationConfig.temperature</c>,
    /// <c>contents[2].parts[0]</c>); an OpenAI client sent <c>temperature</c> and <c>messages[3].content[0]</c>, so
    /// errors say that. Function declarations already carry their OpenAI path (<c>tools[i].function</c>).
    /// </summary>
    public static CastorException ToOpenAINames(CastorException error, IReadOnlyList<int> messageOfContent) =>
        error.WithFieldNames(path => OpenAIFieldName(path, messageOfContent));

    /// <summary>A service field path in the OpenAI parameter names that filled it.</summary>
    internal static string OpenAIFieldName(FieldPath path, IReadOnlyList<int> messageOfContent)
    {
        var s = path.Segments;
        if (s.Count == 0 || s[0].Name is not { } root) return path.ToString();
        switch (root)
        {
            case "generationConfig" when s.Count > 1 && s[1].Name is { } setting:
                if (setting == "thinkingConfig")
                    return s.Count > 2 && s[2].Name is "thinkingBudget" or "thinkingLevel"
                        ? path.From(3).ToStringAfter(s[2].Name == "thinkingBudget" ? "extra_body.google.thinking_config.thinking_budget" : "extra_body.google.thinking_config.thinking_level")
                        : path.ToString();
                var name = setting switch
                {
                    "temperature" => "temperature",
                    "topP" => "top_p",
                    "candidateCount" => "n",
                    "maxOutputTokens" => "max_completion_tokens",
                    "stopSequences" => "stop",
                    "presencePenalty" => "presence_penalty",
                    "frequencyPenalty" => "frequency_penalty",
                    "responseLogprobs" => "logprobs",
                    "logprobs" => "top_logprobs",
                    "responseJsonSchema" => "response_format.json_schema.schema",
                    "responseMimeType" => "response_format",
                    _ => null,
                };
                return name is null ? path.ToString() : path.From(2).ToStringAfter(name);
            case "toolConfig" when path.StartsWith("toolConfig", "functionCallingConfig"):
                // tool_choice is one parameter: mode and allowed names are both in it.
                return path.From(path.StartsWith("toolConfig", "functionCallingConfig", "allowedFunctionNames") ? 3 : 2).ToStringAfter("tool_choice");
            case "systemInstruction":
                return path.From(1).ToStringAfter("messages");
            case "cachedContent":
                return path.From(1).ToStringAfter("extra_body.google.cached_content");
            case "contents" when s.Count > 1 && s[1].IsIndex:
            {
                // Messages merge (a turn's tool results become one content), so contents[i] is the message it started at.
                var index = s[1].Index;
                var message = index < messageOfContent.Count ? messageOfContent[index] : index;
                var part = s.Count > 2 && s[2].Name == "parts" ? s.Count > 3 && s[3].IsIndex ? $".content[{s[3].Index}]" : ".content" : ".content";
                return $"messages[{message}]{part}";
            }
            default:
                return path.ToString();
        }
    }
}
