using System.Text.Json.Serialization;

namespace Castor.Api.OpenAI.Wire;

internal sealed class ChatCompletion
{
    public required string Id { get; init; }
    public string Object { get; init; } = "chat.completion";
    public long Created { get; init; }
    public required string Model { get; init; }
    public required List<ChatChoice> Choices { get; init; }
    public CompletionUsage? Usage { get; init; }
}

internal sealed class ChatChoice
{
    public int Index { get; init; }
    public required ResponseMessage Message { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public ChoiceLogprobs? Logprobs { get; init; }
    public required string FinishReason { get; init; }
}

internal sealed class ResponseMessage
{
    public string Role { get; init; } = "assistant";
    // OpenAI writes "content": null for a turn that only calls tools; clients test for null, not absence.
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? Content { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? Refusal { get; init; }
    public List<ToolCallOut>? ToolCalls { get; init; }
}

internal sealed class ChatCompletionChunk
{
    public required string Id { get; init; }
    public string Object { get; init; } = "chat.completion.chunk";
    public long Created { get; init; }
    public required string Model { get; init; }
    public required List<ChunkChoice> Choices { get; init; }
    public CompletionUsage? Usage { get; init; }
}

internal sealed class ChunkChoice
{
    public int Index { get; init; }
    public required Delta Delta { get; init; }
    public ChoiceLogprobs? Logprobs { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? FinishReason { get; init; }
}

internal sealed class Delta
{
    public string? Role { get; init; }
    public string? Content { get; init; }
    public List<ToolCallOut>? ToolCalls { get; init; }
}

internal sealed class ToolCallOut
{
    /// <summary>Position among the choice's calls; streamed deltas carry it, whole messages do not.</summary>
    public int? Index { get; init; }
    public required string Id { get; init; }
    public string Type { get; init; } = "function";
    public required FunctionCallOut Function { get; init; }
}

internal sealed class FunctionCallOut
{
    public required string Name { get; init; }
    public required string Arguments { get; init; }
}

internal sealed class CompletionUsage
{
    public int PromptTokens { get; init; }
    public int CompletionTokens { get; init; }
    public int TotalTokens { get; init; }
    public PromptTokensDetails? PromptTokensDetails { get; init; }
    public CompletionTokensDetails? CompletionTokensDetails { get; init; }
}

/// <summary>OpenAI's schema names cached and audio tokens here; image tokens count only in prompt_tokens.</summary>
internal sealed class PromptTokensDetails
{
    public int CachedTokens { get; init; }
    public int AudioTokens { get; init; }
}

internal sealed class CompletionTokensDetails
{
    public int ReasoningTokens { get; init; }
}

internal sealed class ModelList
{
    public string Object { get; init; } = "list";
    public required List<ModelObject> Data { get; init; }
}

internal sealed class ModelObject
{
    public required string Id { get; init; }
    public string Object { get; init; } = "model";
    public long Created { get; init; }
    public required string OwnedBy { get; init; }
}

internal sealed class ChoiceLogprobs
{
    public required List<TokenLogprobOut> Content { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public List<TokenLogprobOut>? Refusal { get; init; }
}

internal sealed class TokenLogprobOut
{
    public required string Token { get; init; }
    public double Logprob { get; init; }
    public required List<int> Bytes { get; init; }
    /// <summary>Null on the alternatives themselves; OpenAI nests one level only.</summary>
    public List<TokenLogprobOut>? TopLogprobs { get; init; }
}
