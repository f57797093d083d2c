using Castor.Engine.Sampling;

namespace Castor.Engine.Scheduling;

/// <summary>What the scheduler needs to run one sequence: tokens in, sampling and stop rules, a token budget.</summary>
public sealed record EngineRequest(
    IReadOnlyList<int> PromptTokens,
    SamplingParameters Sampling,
    int MaxOutputTokens,
    IReadOnlyList<string> StopSequences);
