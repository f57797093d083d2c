namespace Castor.Application.Generation;

/// <summary>The request's generation settings as sent; null means "not set". Validation and defaults live in the service.</summary>
public sealed record GenerationConfig
{
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public int? TopK { get; init; }
    public int? CandidateCount { get; init; }
    public int? MaxOutputTokens { get; init; }
    public IReadOnlyList<string>? StopSequences { get; init; }
    public long? Seed { get; init; }
    public double? PresencePenalty { get; init; }
    public double? FrequencyPenalty { get; init; }
    public bool? ResponseLogprobs { get; init; }
    public int? Logprobs { get; init; }

    /// <summary>The answer's format (mime type and schema); null for plain text.</summary>
    public ResponseFormat? ResponseFormat { get; init; }

    public IReadOnlyList<string>? ResponseModalities { get; init; }
    public ThinkingConfig? ThinkingConfig { get; init; }
    /// <summary><c>mediaResolution</c> for every image of the request without one of its own; null: the projector's default.</summary>
    public MediaResolution? MediaResolution { get; init; }

    public bool HasSpeechConfig { get; init; }
    public bool HasImageConfig { get; init; }
}
