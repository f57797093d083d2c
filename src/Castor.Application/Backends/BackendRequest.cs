using Castor.Engine.Scheduling;

namespace Castor.Application.Backends;

/// <summary>
/// A prepared generation: tokens in, sampling and stop rules, a token budget, how many candidates (candidate i samples
/// with seed <c>Sampling.Seed + i</c>). <see cref="TopLogprobs"/>: null for none, otherwise how many alternatives per token.
/// <see cref="PrefixPartition"/>: resident prompt prefixes are reused only within one partition (the application passes
/// the project), so reuse tells no tenant anything about another's prompts. <see cref="MediaPrompt"/>: a prompt with
/// media from <see cref="IModelBackend.TokenizeMediaPrompt"/>, run instead of <see cref="PromptTokens"/>. <see cref="Priority"/>: interactive requests start before batch ones.
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
    MediaPrompt? MediaPrompt = null,
    EnginePriority Priority = EnginePriority.Interactive)
{
    /// <summary>
    /// KV of a prefix of the prompt saved earlier (a cached content's), restored instead of computing those tokens
    /// unless they are resident already; only the part the prompt shares with it is used, so the prompt decides the output.
    /// </summary>
    public KvSnapshot? PrefixSnapshot { get; init; }
}
