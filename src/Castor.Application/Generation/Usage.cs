namespace Castor.Application.Generation;

/// <summary>Token accounting of one request, reported as the API's usageMetadata.</summary>
public sealed record Usage(int PromptTokenCount, int CandidatesTokenCount, int CachedContentTokenCount = 0, int ThoughtsTokenCount = 0)
{
    public int TotalTokenCount => PromptTokenCount + CandidatesTokenCount + ThoughtsTokenCount;

    /// <summary>The prompt's tokens by modality (null: all text).</summary>
    public PromptTokenCounts? PromptTokensDetails { get; init; }
}
