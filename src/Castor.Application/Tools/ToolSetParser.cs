using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Castor.Application.Errors;

namespace Castor.Application.Tools;

/// <summary>Reads and validates <c>tools</c> and <c>toolConfig</c> as the API defines them.</summary>
internal static partial class ToolSetParser
{
    public static ToolSet? Parse(IReadOnlyList<JsonElement>? tools, JsonElement? toolConfig)
    {
        var functions = new List<FunctionDeclaration>();
        for (var t = 0; t < (tools?.Count ?? 0); t++)
        {
            var tool = tools![t];
            if (tool.ValueKind != JsonValueKind.Object)
                throw CastorException.InvalidField($"tools[{t}]", "a tool must be an object.");
            foreach (var property in tool.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "functionDeclarations" or "function_declarations":
                        if (property.Value.ValueKind != JsonValueKind.Array)
                            throw CastorException.InvalidField($"tools[{t}].functionDeclarations", "must be an array.");
                        var i = 0;
                        foreach (var declaration in property.Value.EnumerateArray())
                            functions.Add(Declaration(declaration, $"tools[{t}].functionDeclarations[{i++}]"));
                        break;
                    case "googleSearch" or "google_search" or "googleSearchRetrieval" or "google_search_retrieval":
                        throw CastorException.Unsupported($"tools[{t}].{property.Name}", "Grounding with Google Search");
                    case "codeExecution" or "code_execution":
                        throw CastorException.Unsupported($"tools[{t}].{property.Name}", "Code execution");
                    case "urlContext" or "url_context":
                        throw CastorException.Unsupported($"tools[{t}].{property.Name}", "URL context");
                    default:
                        if (property.Value.ValueKind is not JsonValueKind.Null)
                            throw CastorException.Unsupported($"tools[{t}].{property.Name}", $"The tool '{property.Name}'");
                        break;
                }
            }
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in functions)
            if (!names.Add(f.Name))
                throw CastorException.InvalidField("tools", $"the function '{f.Name}' is declared more than once.");

        var (mode, allowed) = Config(toolConfig);
        if (functions.Count == 0)
        {
            if (allowed is { Count: > 0 } || mode == FunctionCallingMode.Any)
                throw CastorException.InvalidField("toolConfig.functionCallingConfig", "function calling is configured but no functions are declared in tools.");
            return null;
        }
        if (allowed is { Count: > 0 } && mode != FunctionCallingMode.Any)
            throw CastorException.InvalidField("toolConfig.functionCallingConfig.allowedFunctionNames", "allowedFunctionNames can only be set when mode is ANY.");
        var callable = functions;
        if (allowed is { Count: > 0 })
        {
            foreach (var name in allowed)
                if (!names.Contains(name))
                    throw CastorException.InvalidField("toolConfig.functionCallingConfig.allowedFunctionNames", $"'{name}' is not a declared function.");
            callable = functions.Where(f => allowed.Contains(f.Name)).ToList();
        }
        return new ToolSet(functions, mode, callable);
    }

    private static FunctionDeclaration Declaration(JsonElement d, string path)
    {
        if (d.ValueKind != JsonValueKind.Object) throw CastorException.InvalidField(path, "a function declaration must be an object.");
        var name = d.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "";
        if (!FunctionName().IsMatch(name))
            throw CastorException.InvalidField(path + ".name", $"'{name}' is not a valid function name: use a-z, A-Z, 0-9, underscores, dots, colons and dashes, at most 64 characters, starting with a letter or underscore.");
        var description = d.TryGetProperty("description", out var desc) && desc.ValueKind == JsonValueKind.String ? desc.GetString() : null;
        JsonNode? parameters = null;
        var hasParameters = d.TryGetProperty("parameters", out var p) && p.ValueKind != JsonValueKind.Null;
        var hasJsonSchema = (d.TryGetProperty("parametersJsonSchema", out var pj) || d.TryGetProperty("parameters_json_schema", out pj)) && pj.ValueKind != JsonValueKind.Null;
        if (hasParameters && hasJsonSchema)
            throw CastorException.InvalidField(path, "set parameters or parametersJsonSchema, not both.");
        if (hasParameters) parameters = JsonNode.Parse(p.GetRawText());
        if (hasJsonSchema) parameters = JsonNode.Parse(pj.GetRawText());
        if (parameters is not null and not JsonObject)
            throw CastorException.InvalidField(path + (hasParameters ? ".parameters" : ".parametersJsonSchema"), "must be a schema object.");
        return new FunctionDeclaration(name, description, parameters);
    }

    private static (FunctionCallingMode Mode, List<string>? Allowed) Config(JsonElement? toolConfig)
    {
        if (toolConfig is not { ValueKind: JsonValueKind.Object } config) return (FunctionCallingMode.Auto, null);
        if (!config.TryGetProperty("functionCallingConfig", out var fc) && !config.TryGetProperty("function_calling_config", out fc))
            return (FunctionCallingMode.Auto, null);
        if (fc.ValueKind != JsonValueKind.Object) throw CastorException.InvalidField("toolConfig.functionCallingConfig", "must be an object.");
        var mode = FunctionCallingMode.Auto;
        if (fc.TryGetProperty("mode", out var m) && m.ValueKind == JsonValueKind.String)
        {
            mode = m.GetString()!.ToUpperInvariant() switch
            {
                "AUTO" or "MODE_UNSPECIFIED" or "" => FunctionCallingMode.Auto,
                "ANY" or "VALIDATED" => FunctionCallingMode.Any,
                "NONE" => FunctionCallingMode.None,
                var other => throw CastorException.InvalidField("toolConfig.functionCallingConfig.mode", $"'{other}' is not a mode; use AUTO, ANY or NONE."),
            };
        }
        List<string>? allowed = null;
        if (fc.TryGetProperty("allowedFunctionNames", out var a) || fc.TryGetProperty("allowed_function_names", out a))
        {
            if (a.ValueKind != JsonValueKind.Array || a.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String))
                throw CastorException.InvalidField("toolConfig.functionCallingConfig.allowedFunctionNames", "must be an array of function names.");
            allowed = a.EnumerateArray().Select(x => x.GetString()!).ToList();
        }
        return (mode, allowed);
    }

    // \z, not $: $ also matches before a final newline.
    [GeneratedRegex(@"\A[A-Za-z_][A-Za-z0-9_.:-]{0,63}\z")]
    private static partial Regex FunctionName();
}
