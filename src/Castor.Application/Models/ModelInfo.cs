namespace Castor.Application.Models;

/// <summary>What models.get / models.list report about a model or alias. Sampling fields are null for embedding models, as the API omits them.</summary>
public sealed record ModelInfo(
    string Name,
    string BaseModelId,
    string Version,
    string DisplayName,
    string Description,
    int InputTokenLimit,
    int OutputTokenLimit,
    IReadOnlyList<string> SupportedGenerationMethods,
    double? Temperature,
    double? MaxTemperature,
    double? TopP,
    int? TopK,
    bool? Thinking);
