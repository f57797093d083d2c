using Castor.Engine.Models;

namespace Castor.Application.Models;

/// <summary>Everything start-up needs to fill the <see cref="ModelCatalogue"/>: where models are, how each is configured, and the engine's sizing.</summary>
public sealed record ModelCatalogueSettings
{
    /// <summary>Folders or .gguf files to discover models in.</summary>
    public required IReadOnlyList<string> Locations { get; init; }
    public IReadOnlyDictionary<string, ModelSettings> Models { get; init; } = new Dictionary<string, ModelSettings>(StringComparer.OrdinalIgnoreCase);
    public IReadOnlyDictionary<string, string> Aliases { get; init; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    public string? DefaultModel { get; init; }
    public string? DefaultEmbeddingModel { get; init; }
    public bool BuiltinEmbeddingModel { get; init; } = true;
    public required EngineOptions Engine { get; init; }
}
