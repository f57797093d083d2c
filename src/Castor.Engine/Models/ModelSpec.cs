namespace Castor.Engine.Models;

/// <summary>A GGUF file to load, with what configuration says about it.</summary>
public sealed record ModelSpec(string Id, string Path, string? ChatTemplate = null, int? ContextSize = null, string? DisplayName = null);
