using System.Text.Json;

namespace Castor.Api.OpenAI.Wire;

/// <summary>
/// <c>POST chat/completions</c> as the OpenAI SDKs send it. Fields whose type varies on the wire (string or array,
/// string or object) stay <see cref="JsonElement"/> and are read by the mapper, which names the field when one is wrong.
/// </summary>
internal sealed class ChatCompletionRequest
{
    public string? Model { get; set; }
    public List<ChatMessage?>? Messages { get; set; }
    public double? Temperature { get; set; }
    public double? TopP { get; set; }
    public int? N { get; set; }
    public JsonElement? Stop { get; set; }
    public int? MaxTokens { get; set; }
    public int? MaxCompletionTokens { get; set; }
    public long? Seed { get; set; }
    public double? PresencePenalty { get; set; }
    public double? FrequencyPenalty { get; set; }
    public bool? Logprobs { get; set; }
    public int? TopLogprobs { get; set; }
    public JsonElement? LogitBias { get; set; }
    public bool? Stream { get; set; }
    public StreamOptions? StreamOptions { get; set; }
    public List<JsonElement>? Tools { get; set; }
    public JsonElement? ToolChoice { get; set; }
    public bool? ParallelToolCalls { get; set; }
    public JsonElement? ResponseFormat { get; set; }
    public string? ReasoningEffort { get; set; }
    public List<string>? Modalities { get; set; }
    public JsonElement? Audio { get; set; }
    public JsonElement? WebSearchOptions { get; set; }
    public JsonElement? Functions { get; set; }
    public JsonElement? FunctionCall { get; set; }

    /// <summary>Gemini's extensions. The JS SDK sends <c>extra_body</c> literally; Python merges it, so <c>google</c> may also arrive at the top.</summary>
    public JsonElement? ExtraBody { get; set; }
    public JsonElement? Google { get; set; }
}

internal sealed class StreamOptions
{
    public bool? IncludeUsage { get; set; }
}

internal sealed class ChatMessage
{
    public string? Role { get; set; }
    public JsonElement? Content { get; set; }
    public string? Name { get; set; }
    public List<ToolCall?>? ToolCalls { get; set; }
    public string? ToolCallId { get; set; }
}

internal sealed class ToolCall
{
    public string? Id { get; set; }
    public string? Type { get; set; }
    public FunctionCall? Function { get; set; }
}

internal sealed class FunctionCall
{
    public string? Name { get; set; }
    public string? Arguments { get; set; }
}

internal sealed class EmbeddingsRequest
{
    public JsonElement? Input { get; set; }
    public string? Model { get; set; }
    public int? Dimensions { get; set; }
    public string? EncodingFormat { get; set; }
}
