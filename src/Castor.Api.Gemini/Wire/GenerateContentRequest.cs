using System.Text.Json;
using System.Text.Json.Serialization;

namespace Castor.Api.Gemini.Wire;

// Wire types mirror the API's JSON (camelCase; snake_case accepted too, see SnakeCaseAliases).
// Free-form JSON (schemas, function args) stays JsonElement so nothing inside it is renamed.

public sealed class GenerateContentRequest
{
    public string? Model { get; set; }
    public List<Content>? Contents { get; set; }
    public Content? SystemInstruction { get; set; }
    public GenerationConfig? GenerationConfig { get; set; }
    public List<Tool?>? Tools { get; set; }
    public ToolConfig? ToolConfig { get; set; }
    public List<SafetySetting>? SafetySettings { get; set; }
    public string? CachedContent { get; set; }
}

public sealed class Content
{
    public string? Role { get; set; }
    public List<Part>? Parts { get; set; }
}

public sealed class Part
{
    public string? Text { get; set; }
    public Blob? InlineData { get; set; }
    public FileData? FileData { get; set; }
    public FunctionCall? FunctionCall { get; set; }
    public FunctionResponse? FunctionResponse { get; set; }
    public JsonElement? ExecutableCode { get; set; }
    public JsonElement? CodeExecutionResult { get; set; }
    public JsonElement? ToolCall { get; set; }
    public JsonElement? ToolResponse { get; set; }
    public JsonElement? VideoMetadata { get; set; }
    public bool? Thought { get; set; }
    public string? ThoughtSignature { get; set; }
    public PartMediaResolution? MediaResolution { get; set; }
}

/// <summary>A part's <c>mediaResolution</c>: <c>{"level": "MEDIA_RESOLUTION_HIGH"}</c>, as @google/genai's createPartFromBase64 writes it.</summary>
public sealed class PartMediaResolution
{
    public string? Level { get; set; }
    public int? NumTokens { get; set; }
}

public sealed class Blob
{
    public string? MimeType { get; set; }
    public string? Data { get; set; }
}

public sealed class FileData
{
    public string? MimeType { get; set; }
    public string? FileUri { get; set; }
}

public sealed class FunctionCall
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public JsonElement? Args { get; set; }
}

public sealed class FunctionResponse
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public JsonElement? Response { get; set; }
}

public sealed class GenerationConfig
{
    public double? Temperature { get; set; }
    public double? TopP { get; set; }
    public int? TopK { get; set; }
    public int? CandidateCount { get; set; }
    public int? MaxOutputTokens { get; set; }
    public List<string>? StopSequences { get; set; }
    public long? Seed { get; set; }
    public double? PresencePenalty { get; set; }
    public double? FrequencyPenalty { get; set; }
    public bool? ResponseLogprobs { get; set; }
    public int? Logprobs { get; set; }
    public string? ResponseMimeType { get; set; }
    public JsonElement? ResponseSchema { get; set; }
    public JsonElement? ResponseJsonSchema { get; set; }
    public List<string>? ResponseModalities { get; set; }
    public ThinkingConfig? ThinkingConfig { get; set; }
    public JsonElement? SpeechConfig { get; set; }
    public JsonElement? ImageConfig { get; set; }
    public string? MediaResolution { get; set; }
    public bool? EnableEnhancedCivicAnswers { get; set; }
}

public sealed class ThinkingConfig
{
    public bool? IncludeThoughts { get; set; }
    public int? ThinkingBudget { get; set; }
    public string? ThinkingLevel { get; set; }
}

public sealed class Tool
{
    public List<FunctionDeclaration?>? FunctionDeclarations { get; set; }

    /// <summary>
    /// Every other tool (googleSearch, codeExecution, urlContext, …) under the name the client sent it: Castor offers none
    /// of them and refuses each by that name rather than ignoring it.
    /// </summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed class FunctionDeclaration
{
    public string? Name { get; set; }
    public string? Description { get; set; }
    public JsonElement? Parameters { get; set; }
    public JsonElement? ParametersJsonSchema { get; set; }
}

public sealed class ToolConfig
{
    public FunctionCallingConfig? FunctionCallingConfig { get; set; }
}

public sealed class FunctionCallingConfig
{
    public string? Mode { get; set; }
    public List<string>? AllowedFunctionNames { get; set; }
}

public sealed class SafetySetting
{
    public string? Category { get; set; }
    public string? Threshold { get; set; }
}

public sealed class CountTokensRequest
{
    public List<Content>? Contents { get; set; }
    public GenerateContentRequest? GenerateContentRequest { get; set; }
}
