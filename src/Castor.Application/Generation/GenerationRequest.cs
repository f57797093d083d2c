using System.Text.Json;

namespace Castor.Application.Generation;

/// <summary>The one internal generation request that every protocol adapter produces.</summary>
public sealed record GenerationRequest
{
    /// <summary>The model name as the client sent it (with or without <c>models/</c>).</summary>
    public required string Model { get; init; }
    public required IReadOnlyList<Content> Contents { get; init; }
    public Content? SystemInstruction { get; init; }
    public GenerationConfig Config { get; init; } = new();

    /// <summary>Tool declarations as sent; interpreted by the function-calling service once it exists.</summary>
    public IReadOnlyList<JsonElement>? Tools { get; init; }
    public JsonElement? ToolConfig { get; init; }
    public string? CachedContent { get; init; }

    /// <summary>False limits a turn to one function call (OpenAI's <c>parallel_tool_calls: false</c>); the Gemini wire has no such switch.</summary>
    public bool ParallelFunctionCalls { get; init; } = true;

    /// <summary>Safety thresholds as sent. Castor runs no content classifier, so nothing is ever blocked; the values are still validated.</summary>
    public IReadOnlyList<SafetySetting> SafetySettings { get; init; } = [];
}

public sealed record SafetySetting(string? Category, string? Threshold);
