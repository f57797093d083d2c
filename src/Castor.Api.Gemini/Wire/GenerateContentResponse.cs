namespace Castor.Api.Gemini.Wire;

public sealed class GenerateContentResponse
{
    public List<Candidate>? Candidates { get; set; }
    public UsageMetadata? UsageMetadata { get; set; }
    public string? ModelVersion { get; set; }
    public string? ResponseId { get; set; }
}

public sealed class Candidate
{
    public Content? Content { get; set; }
    public string? FinishReason { get; set; }
    public int Index { get; set; }
    public double? AvgLogprobs { get; set; }
    public LogprobsResult? LogprobsResult { get; set; }
}

public sealed class LogprobsResult
{
    public List<TopCandidates>? TopCandidates { get; set; }
    public List<LogprobsResultCandidate>? ChosenCandidates { get; set; }
    public double? LogProbabilitySum { get; set; }
}

public sealed class TopCandidates
{
    public List<LogprobsResultCandidate>? Candidates { get; set; }
}

public sealed class LogprobsResultCandidate
{
    public string? Token { get; set; }
    public int TokenId { get; set; }
    public double LogProbability { get; set; }
}

public sealed class UsageMetadata
{
    public int PromptTokenCount { get; set; }
    public int? CandidatesTokenCount { get; set; }
    public int TotalTokenCount { get; set; }
    public int? CachedContentTokenCount { get; set; }
    public int? ThoughtsTokenCount { get; set; }
    public List<ModalityTokenCount>? PromptTokensDetails { get; set; }
}

public sealed class ModalityTokenCount
{
    public string Modality { get; set; } = "TEXT";
    public int TokenCount { get; set; }
}

public sealed class CountTokensResponse
{
    public int TotalTokens { get; set; }
    public List<ModalityTokenCount>? PromptTokensDetails { get; set; }
}

public sealed class Model
{
    public string Name { get; set; } = "";
    public string? BaseModelId { get; set; }
    public string Version { get; set; } = "";
    public string? DisplayName { get; set; }
    public string? Description { get; set; }
    public int InputTokenLimit { get; set; }
    public int OutputTokenLimit { get; set; }
    public List<string>? SupportedGenerationMethods { get; set; }
    public double? Temperature { get; set; }
    public double? MaxTemperature { get; set; }
    public double? TopP { get; set; }
    public int? TopK { get; set; }
    public bool? Thinking { get; set; }
}

public sealed class ListModelsResponse
{
    public List<Model>? Models { get; set; }
    public string? NextPageToken { get; set; }
}
