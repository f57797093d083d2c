namespace Castor.Application.Backends;

/// <summary>Resolved sampling settings (defaults already applied); <see cref="Temperature"/> 0 means greedy decoding.</summary>
public sealed record SamplingSettings(float Temperature, float TopP, int TopK, uint Seed, float PresencePenalty = 0, float FrequencyPenalty = 0);
