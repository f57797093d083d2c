using Castor.Application.Backends;
using Castor.Engine.Models;

namespace Castor.Application.Models;

/// <summary>How one configured model is loaded (the <c>ModelSettings:{id}</c> section, translated by the composition root).</summary>
public sealed record ModelFileSettings
{
    /// <summary>The GGUF to load under this id; null configures a discovered file without naming it.</summary>
    public string? Path { get; init; }
    public string? ChatTemplate { get; init; }
    public int? ContextSize { get; init; }
    public string? DisplayName { get; init; }
    public FlashAttentionMode? FlashAttention { get; init; }
    public IReadOnlyList<string> Aliases { get; init; } = [];
    public ThoughtMarkers? Thinking { get; init; }
    /// <summary>True or false forces the kind; null lets the settings below or the GGUF's metadata decide.</summary>
    public bool? Embedding { get; init; }
    public string? Pooling { get; init; }
    public string? PromptStyle { get; init; }
    public IReadOnlyDictionary<string, string> TaskPrompts { get; init; } = new Dictionary<string, string>();
}
