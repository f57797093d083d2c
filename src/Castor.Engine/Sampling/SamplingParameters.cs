namespace Castor.Engine.Sampling;

/// <summary>
/// Resolved sampling settings for one sequence. Every value is final (defaults already applied);
/// <see cref="Temperature"/> 0 means greedy decoding.
/// </summary>
public sealed record SamplingParameters(
    float Temperature,
    float TopP,
    int TopK,
    uint Seed,
    float PresencePenalty = 0,
    float FrequencyPenalty = 0);
