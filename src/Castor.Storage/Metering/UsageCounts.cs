namespace Castor.Storage.Metering;

/// <summary>
/// Requests and tokens summed over a bucket, as the API's <c>usageMetadata</c> names them: <c>promptTokenCount</c>
/// (cached tokens included), <c>cachedContentTokenCount</c>, <c>candidatesTokenCount</c>, <c>thoughtsTokenCount</c>,
/// <c>toolUsePromptTokenCount</c>, and the prompt by modality (<c>promptTokensDetails</c>); latency is the sum of the
/// requests' wall times.
/// </summary>
public sealed record UsageCounts(long Requests, long PromptTokens, long CachedContentTokens, long CandidatesTokens, long ThoughtsTokens,
    long PromptTextTokens, long PromptImageTokens, long PromptAudioTokens, long LatencyMilliseconds)
{
    public static readonly UsageCounts Zero = new(0, 0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>
    /// The API's <c>toolUsePromptTokenCount</c>: prompt tokens of server-side tool results (Google Search, code
    /// execution), which the API counts beside the prompt. Castor runs no server-side tools (functions run on the
    /// client, and their results come back as prompt tokens), so what it meters is 0.
    /// </summary>
    public long ToolUsePromptTokens { get; init; }

    /// <summary>Prompt, tool-use prompt, candidates and thoughts, as the API's <c>totalTokenCount</c> adds them.</summary>
    public long TotalTokens => PromptTokens + ToolUsePromptTokens + CandidatesTokens + ThoughtsTokens;

    public static UsageCounts operator +(UsageCounts a, UsageCounts b) => new(
        a.Requests + b.Requests, a.PromptTokens + b.PromptTokens, a.CachedContentTokens + b.CachedContentTokens,
        a.CandidatesTokens + b.CandidatesTokens, a.ThoughtsTokens + b.ThoughtsTokens, a.PromptTextTokens + b.PromptTextTokens,
        a.PromptImageTokens + b.PromptImageTokens, a.PromptAudioTokens + b.PromptAudioTokens, a.LatencyMilliseconds + b.LatencyMilliseconds)
    {
        ToolUsePromptTokens = a.ToolUsePromptTokens + b.ToolUsePromptTokens,
    };
}
