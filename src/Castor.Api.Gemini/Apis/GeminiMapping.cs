using System.Text.Json;
using System.Text.Json.Nodes;
using Castor.Application.Errors;
using App = Castor.Application.Generation;
using AppTools = Castor.Application.Tools;
using Castor.Api.Gemini.Wire;

namespace Castor.Api.Gemini.Apis;

/// <summary>Translates Gemini wire types to the internal generation model and back. No rules live here.</summary>
internal static class GeminiMapping
{
    public static App.GenerationRequest ToGenerationRequest(string model, GenerateContentRequest wire) => new()
    {
        Model = model,
        Contents = ToContents(wire.Contents, "contents"),
        SystemInstruction = wire.SystemInstruction is null ? null : ToContent(wire.SystemInstruction, "systemInstruction"),
        Config = ToConfig(wire.GenerationConfig),
        Tools = ToFunctionDeclarations(wire.Tools),
        ToolChoice = ToToolChoice(wire.ToolConfig),
        CachedContent = wire.CachedContent,
        SafetySettings = wire.SafetySettings?.Select(s => new App.SafetySetting(s?.Category, s?.Threshold)).ToList() ?? [],
    };

    public static IReadOnlyList<App.Content> ToContents(List<Content>? contents, string path)
    {
        if (contents is null) return [];
        var list = new List<App.Content>(contents.Count);
        for (var i = 0; i < contents.Count; i++)
        {
            if (contents[i] is null) throw CastorException.InvalidField($"{path}[{i}]", "a content must be an object, not null.");
            list.Add(ToContent(contents[i], $"{path}[{i}]"));
        }
        return list;
    }

    internal static App.Content ToContent(Content content, string path)
    {
        var parts = new List<App.Part>(content.Parts?.Count ?? 0);
        if (content.Parts is not null)
            for (var j = 0; j < content.Parts.Count; j++)
                parts.Add(ToPart(content.Parts[j], $"{path}.parts[{j}]"));
        return new App.Content(content.Role ?? "", parts);
    }

    private static App.Part ToPart(Part? part, string path)
    {
        if (part is null) throw CastorException.InvalidField(path, "a part must be an object, not null.");
        var kinds = new List<string>(1);
        if (part.Text is not null) kinds.Add("text");
        if (part.InlineData is not null) kinds.Add("inlineData");
        if (part.FileData is not null) kinds.Add("fileData");
        if (part.FunctionCall is not null) kinds.Add("functionCall");
        if (part.FunctionResponse is not null) kinds.Add("functionResponse");
        if (IsSet(part.ExecutableCode)) kinds.Add("executableCode");
        if (IsSet(part.CodeExecutionResult)) kinds.Add("codeExecutionResult");
        if (IsSet(part.ToolCall)) kinds.Add("toolCall");
        if (IsSet(part.ToolResponse)) kinds.Add("toolResponse");
        if (kinds.Count > 1)
            throw CastorException.InvalidField(path, $"a part holds one kind of data, but this one sets {string.Join(" and ", kinds)}.");

        App.Part mapped = kinds.FirstOrDefault() switch
        {
            "text" => new App.TextPart(part.Text!) { Thought = part.Thought == true },
            "inlineData" => new App.InlineDataPart(part.InlineData!.MimeType ?? "", part.InlineData.Data ?? "") { MediaResolution = PartResolution(part, path) },
            "fileData" => new App.FileDataPart(part.FileData!.MimeType, part.FileData.FileUri ?? "") { MediaResolution = PartResolution(part, path) },
            "functionCall" => new App.FunctionCallPart(part.FunctionCall!.Name ?? "", part.FunctionCall.Args, part.FunctionCall.Id),
            "functionResponse" => new App.FunctionResponsePart(part.FunctionResponse!.Name ?? "", part.FunctionResponse.Response, part.FunctionResponse.Id),
            { } other => new App.OtherPart(other),
            null => throw CastorException.InvalidField(path, "the part has no data; set text, inlineData or fileData."),
        };
        return mapped with { ThoughtSignature = part.ThoughtSignature };
    }

    /// <summary>A part's <c>mediaResolution.level</c>. <c>numTokens</c> (an exact token count) is refused rather than ignored.</summary>
    private static App.MediaResolution? PartResolution(Part part, string path)
    {
        if (part.MediaResolution is not { } resolution) return null;
        if (resolution.NumTokens is not null)
            throw CastorException.Unsupported($"{path}.mediaResolution.numTokens", "A media resolution given as a token count");
        return App.MediaResolutionNames.Parse(resolution.Level, FieldPath.Parse($"{path}.mediaResolution.level"), perPart: true);
    }

    private static bool IsSet(JsonElement? e) => e is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined };

    private static App.GenerationConfig ToConfig(GenerationConfig? c) => c is null ? new() : new()
    {
        Temperature = c.Temperature,
        TopP = c.TopP,
        TopK = c.TopK,
        CandidateCount = c.CandidateCount,
        MaxOutputTokens = c.MaxOutputTokens,
        StopSequences = c.StopSequences,
        Seed = c.Seed,
        PresencePenalty = c.PresencePenalty,
        FrequencyPenalty = c.FrequencyPenalty,
        ResponseLogprobs = c.ResponseLogprobs,
        Logprobs = c.Logprobs,
        ResponseFormat = ToResponseFormat(c),
        ResponseModalities = c.ResponseModalities,
        ThinkingConfig = c.ThinkingConfig is { } t
            ? new App.ThinkingConfig(t.ThinkingBudget, t.IncludeThoughts, App.ThinkingLevelNames.Parse(t.ThinkingLevel, FieldPath.Parse("generationConfig.thinkingConfig.thinkingLevel")))
            : null,
        MediaResolution = App.MediaResolutionNames.Parse(c.MediaResolution, FieldPath.Parse("generationConfig.mediaResolution")),
        HasSpeechConfig = IsSet(c.SpeechConfig),
        HasImageConfig = IsSet(c.ImageConfig),
    };

    /// <summary>responseMimeType with at most one of responseSchema and responseJsonSchema; null when none is set (plain text).</summary>
    private static App.ResponseFormat? ToResponseFormat(GenerationConfig c)
    {
        var (schema, jsonSchema) = (IsSet(c.ResponseSchema), IsSet(c.ResponseJsonSchema));
        if (schema && jsonSchema)
            throw CastorException.InvalidField("generationConfig.responseJsonSchema", "responseSchema and responseJsonSchema cannot both be set; use one.");
        if (string.IsNullOrEmpty(c.ResponseMimeType) && !schema && !jsonSchema) return null;
        return new App.ResponseFormat(c.ResponseMimeType ?? "",
            jsonSchema ? c.ResponseJsonSchema : schema ? c.ResponseSchema : null,
            schema ? App.ResponseSchemaKind.OpenApiSchema : App.ResponseSchemaKind.JsonSchema);
    }

    /// <summary>
    /// The function declarations of every tool, each with the path it was sent at. Any other tool is refused under the
    /// name the client used (googleSearch or google_search): Castor has none of them.
    /// </summary>
    internal static IReadOnlyList<AppTools.FunctionDeclaration> ToFunctionDeclarations(List<Tool?>? tools)
    {
        var functions = new List<AppTools.FunctionDeclaration>();
        for (var t = 0; t < (tools?.Count ?? 0); t++)
        {
            var path = FieldPath.Of("tools").Element(t);
            var tool = tools![t] ?? throw CastorException.InvalidField(path, "a tool must be an object.");
            foreach (var (name, value) in tool.Unknown ?? new Dictionary<string, JsonElement>())
            {
                var what = name switch
                {
                    "googleSearch" or "google_search" or "googleSearchRetrieval" or "google_search_retrieval" => "Grounding with Google Search",
                    "codeExecution" or "code_execution" => "Code execution",
                    "urlContext" or "url_context" => "URL context",
                    // An unknown tool sent as null asks for nothing.
                    _ when value.ValueKind is JsonValueKind.Null => null,
                    _ => $"The tool '{name}'",
                };
                if (what is not null) throw CastorException.Unsupported(path.Field(name), what);
            }
            for (var i = 0; i < (tool.FunctionDeclarations?.Count ?? 0); i++)
                functions.Add(ToFunctionDeclaration(tool.FunctionDeclarations![i], path.Field("functionDeclarations").Element(i)));
        }
        return functions;
    }

    private static AppTools.FunctionDeclaration ToFunctionDeclaration(FunctionDeclaration? d, FieldPath path)
    {
        if (d is null) throw CastorException.InvalidField(path, "a function declaration must be an object.");
        var (parameters, jsonSchema) = (IsSet(d.Parameters), IsSet(d.ParametersJsonSchema));
        if (parameters && jsonSchema)
            throw CastorException.InvalidField(path, "set parameters or parametersJsonSchema, not both.");
        var schema = parameters ? d.Parameters : jsonSchema ? d.ParametersJsonSchema : null;
        if (schema is { ValueKind: not JsonValueKind.Object })
            throw CastorException.InvalidField(path.Field(parameters ? "parameters" : "parametersJsonSchema"), "must be a schema object.");
        return new AppTools.FunctionDeclaration(d.Name ?? "", d.Description, schema is { } s ? JsonNode.Parse(s.GetRawText()) : null) { Path = path };
    }

    /// <summary>toolConfig.functionCallingConfig; null when not set (the model decides).</summary>
    internal static AppTools.ToolChoice? ToToolChoice(ToolConfig? config)
    {
        if (config?.FunctionCallingConfig is not { } fc) return null;
        var mode = fc.Mode?.ToUpperInvariant() switch
        {
            null or "AUTO" or "MODE_UNSPECIFIED" or "" => AppTools.FunctionCallingMode.Auto,
            "ANY" or "VALIDATED" => AppTools.FunctionCallingMode.Any,
            "NONE" => AppTools.FunctionCallingMode.None,
            var other => throw CastorException.InvalidField("toolConfig.functionCallingConfig.mode", $"'{other}' is not a mode; use AUTO, ANY or NONE."),
        };
        return new AppTools.ToolChoice(mode, fc.AllowedFunctionNames);
    }

    public static string FinishReasonName(App.FinishReason reason) => reason switch
    {
        App.FinishReason.Stop => "STOP",
        App.FinishReason.MaxTokens => "MAX_TOKENS",
        App.FinishReason.MalformedFunctionCall => "MALFORMED_FUNCTION_CALL",
        _ => "OTHER",
    };

    public static UsageMetadata ToUsage(App.Usage usage, bool final) => new()
    {
        PromptTokenCount = usage.PromptTokenCount,
        // Mid-stream chunks carry the prompt count only, as the API's do; the last one has the full accounting.
        CandidatesTokenCount = final ? usage.CandidatesTokenCount : null,
        TotalTokenCount = final ? usage.TotalTokenCount : usage.PromptTokenCount,
        ThoughtsTokenCount = usage.ThoughtsTokenCount > 0 ? usage.ThoughtsTokenCount : null,
        CachedContentTokenCount = usage.CachedContentTokenCount > 0 ? usage.CachedContentTokenCount : null,
        PromptTokensDetails = ToDetails(usage.PromptTokensDetails ?? new App.PromptTokenCounts(usage.PromptTokenCount)),
    };

    /// <summary>promptTokensDetails: TEXT always, IMAGE and AUDIO when the prompt has them.</summary>
    public static List<ModalityTokenCount> ToDetails(App.PromptTokenCounts counts)
    {
        var details = new List<ModalityTokenCount> { new() { Modality = "TEXT", TokenCount = counts.Text } };
        if (counts.Image > 0) details.Add(new ModalityTokenCount { Modality = "IMAGE", TokenCount = counts.Image });
        if (counts.Audio > 0) details.Add(new ModalityTokenCount { Modality = "AUDIO", TokenCount = counts.Audio });
        return details;
    }

    public static Candidate ToCandidate(int index, IReadOnlyList<App.Part> answer, App.FinishReason? finish, string thought = "",
        IReadOnlyList<App.LogprobStep>? logprobs = null, bool average = false)
    {
        var parts = new List<Part>();
        if (thought.Length > 0) parts.Add(new Part { Text = thought, Thought = true });
        foreach (var part in answer)
        {
            switch (part)
            {
                case App.TextPart text:
                    parts.Add(new Part { Text = text.Text });
                    break;
                case App.FunctionCallPart call:
                    parts.Add(new Part { FunctionCall = new FunctionCall { Id = call.Id, Name = call.Name, Args = call.Args } });
                    break;
            }
        }
        if (parts.Count == 0) parts.Add(new Part { Text = "" });
        return new Candidate
        {
            Index = index,
            Content = new Content { Role = "model", Parts = parts },
            FinishReason = finish is { } f ? FinishReasonName(f) : null,
            LogprobsResult = logprobs is null ? null : ToLogprobs(logprobs),
            // The average is of the whole candidate, so only a whole (non-streamed) answer carries it.
            AvgLogprobs = average && logprobs is { Count: > 0 } ? logprobs.Average(s => (double)s.Chosen.Logprob) : null,
        };
    }

    private static LogprobsResult ToLogprobs(IReadOnlyList<App.LogprobStep> steps) => new()
    {
        TopCandidates = steps.Select(s => new TopCandidates { Candidates = s.Top.Select(ToWire).ToList() }).ToList(),
        ChosenCandidates = steps.Select(s => ToWire(s.Chosen)).ToList(),
        LogProbabilitySum = steps.Sum(s => (double)s.Chosen.Logprob),
    };

    private static LogprobsResultCandidate ToWire(App.TokenLogprob t) =>
        new() { Token = t.Token, TokenId = t.TokenId, LogProbability = t.Logprob };
}
