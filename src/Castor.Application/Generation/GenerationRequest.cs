using Castor.Application.Tools;
using Castor.Engine.Scheduling;

namespace Castor.Application.Generation;

/// <summary>The one internal generation request that every protocol adapter produces.</summary>
public sealed record GenerationRequest
{
    /// <summary>The model name as the client sent it (with or without <c>models/</c>).</summary>
    public required string Model { get; init; }
    public required IReadOnlyList<Content> Contents { get; init; }
    public Content? SystemInstruction { get; init; }
    public GenerationConfig Config { get; init; } = new();

    /// <summary>The functions the model may call, from every tool the client declared (validated by the service).</summary>
    public IReadOnlyList<FunctionDeclaration> Tools { get; init; } = [];

    /// <summary>Whether and which functions the model may or must call; null is <see cref="ToolChoice.Auto"/>.</summary>
    public ToolChoice? ToolChoice { get; init; }
    public string? CachedContent { get; init; }

    /// <summary>False limits a turn to one function call (OpenAI's <c>parallel_tool_calls: false</c>); the Gemini wire has no such switch.</summary>
    public bool ParallelFunctionCalls { get; init; } = true;

    /// <summary>Safety thresholds as sent. Castor runs no content classifier, so nothing is ever blocked; the values are still validated.</summary>
    public IReadOnlyList<SafetySetting> SafetySettings { get; init; } = [];

    /// <summary>Batch jobs run their requests at <see cref="EnginePriority.Batch"/>: every waiting interactive request starts first.</summary>
    public EnginePriority Priority { get; init; } = EnginePriority.Interactive;

    /// <summary>
    /// Run by the generation service with the prepared prompt's token counts just before the prompt is queued (rate
    /// limits set it: see <see cref="PromptAdmission"/>); null: nothing to check.
    /// </summary>
    public PromptAdmission? Admission { get; init; }
}

public sealed record SafetySetting(string? Category, string? Threshold);
