using Castor.Engine.Grammars;
using Castor.Engine.Sampling;

namespace Castor.Engine.Scheduling;

/// <summary>
/// What the scheduler needs to run one request: a prompt in, sampling and stop rules, a token budget, and how many
/// candidates to draw. Candidate i samples with seed <c>Sampling.Seed + i</c>; the prompt is computed once and forked.
/// <see cref="TopLogprobs"/>: null for no log probabilities, otherwise how many top alternatives each token reports.
/// <see cref="PrefixPartition"/>: resident prompt prefixes are reused only between requests of the same partition
/// (the application passes the project), so neither the reused-token count nor the time to first token can tell one
/// tenant anything about another's prompts. <see cref="Priority"/>: interactive requests start before batch ones.
/// </summary>
public sealed record EngineRequest(
    EnginePrompt Prompt,
    SamplingParameters Sampling,
    int MaxOutputTokens,
    IReadOnlyList<string> StopSequences,
    int Candidates = 1,
    GrammarConstraint? Grammar = null,
    ThinkingControl? Thinking = null,
    int? TopLogprobs = null,
    string PrefixPartition = "",
    EnginePriority Priority = EnginePriority.Interactive)
{
    /// <summary>
    /// KV of a prefix of the prompt computed earlier (a cached content's): restored into the sequence instead of decoding
    /// those tokens, unless they are resident already. Only the part the prompt shares with it is used.
    /// </summary>
    public PrefixSnapshot? Snapshot { get; init; }

    /// <summary>A request whose prompt is plain text tokens (one <see cref="TokenRun"/>).</summary>
    public EngineRequest(
        IReadOnlyList<int> PromptTokens,
        SamplingParameters Sampling,
        int MaxOutputTokens,
        IReadOnlyList<string> StopSequences,
        int Candidates = 1,
        GrammarConstraint? Grammar = null,
        ThinkingControl? Thinking = null,
        int? TopLogprobs = null,
        string PrefixPartition = "",
        EnginePriority Priority = EnginePriority.Interactive)
        : this(EnginePrompt.FromTokens(PromptTokens), Sampling, MaxOutputTokens, StopSequences, Candidates, Grammar, Thinking,
            TopLogprobs, PrefixPartition, Priority)
    {
    }
}

/// <summary>
/// Thought tracking for a thinking model: tokens between the markers count as thoughts, and once
/// <see cref="Budget"/> of them were generated (0 = none, -1 = unlimited) the end marker is forced.
/// </summary>
public sealed record ThinkingControl(IReadOnlyList<int> StartTokens, IReadOnlyList<int> EndTokens, int Budget, bool StartsInThought);
