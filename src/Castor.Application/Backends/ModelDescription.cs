namespace Castor.Application.Backends;

/// <summary>
/// Facts about a loaded generative model, as models.get, the start-up banner and the generation rules need them.
/// <see cref="ContextSize"/> is per sequence; <see cref="KvCells"/> is what the backend reserved for all of them.
/// </summary>
public sealed record ModelDescription
{
    public required string Id { get; init; }
    public required string DisplayName { get; init; }
    /// <summary>The model's own version string (GGUF <c>general.version</c>); models.get reports <c>001</c> when absent.</summary>
    public string? Version { get; init; }
    public string Architecture { get; init; } = "unknown";
    /// <summary>The file the weights came from (name only), for models.get's description.</summary>
    public string FileName { get; init; } = "";
    public ulong ParameterCount { get; init; }
    /// <summary>The chat template's name as the banner and models.get report it.</summary>
    public string ChatTemplateName { get; init; } = "";
    /// <summary>The template's source text, from which the tool-call format is detected; empty when unknown.</summary>
    public string ChatTemplateSource { get; init; } = "";
    public required int ContextSize { get; init; }
    /// <summary>How many sequences run at once, which bounds candidateCount.</summary>
    public required int Parallel { get; init; }
    public int KvCells { get; init; }
    /// <summary>Whether flash attention is on (null: left to the backend).</summary>
    public bool? FlashAttention { get; init; }
    /// <summary>CPU threads for single-token steps and for multi-token steps (0: not a CPU backend's concern).</summary>
    public int DecodeThreads { get; init; }
    public int BatchThreads { get; init; }
    /// <summary>The model's thought markers, when it is a thinking model.</summary>
    public ThoughtMarkers? Thinking { get; init; }
}
