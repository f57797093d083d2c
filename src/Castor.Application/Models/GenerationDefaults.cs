namespace Castor.Application.Models;

/// <summary>Sampling defaults when a request leaves them unset; the Gemini 2.5 models' published defaults.</summary>
public static class GenerationDefaults
{
    public const double Temperature = 1.0;
    public const double MaxTemperature = 2.0;
    public const double TopP = 0.95;
    public const int TopK = 64;
    public const int MaxCandidates = 8;
    public const int MaxStopSequences = 5;
    /// <summary>generationConfig.logprobs (and OpenAI's top_logprobs) range over [0, 20].</summary>
    public const int MaxLogprobs = 20;
}
