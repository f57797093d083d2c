using Castor.Engine.Scheduling;

namespace Castor.Application.Backends;

/// <summary>
/// A prepared generation: tokens in, sampling and stop rules, a token budget, how many candidates (candidate i samples
/// with seed <c>Sampling.Seed + i</c>). <see cref="TopLogprobs"/>: null for none, otherwise how many alternatives per token.
/// <see cref="PrefixPartition"/>: resident prompt prefixes are reused only within one partition (the application passes
/// the project), so reuse tells no tenant anything about another's prompts. <see cref="Priority"/>: interactive requests start before batch ones.
/// </summary>
public sealed record BackendRequest(
    IReadOnlyList<int> PromptTokens,
    SamplingSettings Sampling,
    int MaxOutputTokens,
    IReadOnlyList<string> StopSequences,
    int Candidates = 1,
    OutputGrammar? Grammar = null,
    ThinkingPlan? Thinking = null,
    int? TopLogprobs = null,
    string PrefixPartition = "",
    EnginePriority Priority = EnginePriority.Interactive);
