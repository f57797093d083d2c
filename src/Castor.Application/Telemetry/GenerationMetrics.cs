using System.Diagnostics.Metrics;
using Castor.Engine.Diagnostics;

namespace Castor.Application.Telemetry;

/// <summary>
/// The application's instruments, named as OpenTelemetry's GenAI semantic conventions name them where they exist
/// (gen_ai.server.*, gen_ai.client.token.usage) and castor.* otherwise. Recorded once per request, never per token.
/// </summary>
internal static class GenerationMetrics
{
    // The conventions' advised bucket boundaries (seconds), so histograms resolve the sub-second range a small model lives in.
    private static readonly double[] DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    private static readonly double[] TtftBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
    private static readonly double[] TpotBuckets = [0.001, 0.005, 0.01, 0.02, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];
    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    private static readonly double[] RateBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];

    public static readonly Histogram<double> RequestDuration = CastorDiagnostics.Meter.CreateHistogram<double>(
        "gen_ai.server.request.duration", "s", "Time from a generation request's start to its last token (or its failure).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    public static readonly Histogram<double> TimeToFirstToken = CastorDiagnostics.Meter.CreateHistogram<double>(
        "gen_ai.server.time_to_first_token", "s", "Time from a generation request's start to its first answer token.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TtftBuckets });

    public static readonly Histogram<double> TimePerOutputToken = CastorDiagnostics.Meter.CreateHistogram<double>(
        "gen_ai.server.time_per_output_token", "s", "Time per output token after the first (inter-token latency), per request.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TpotBuckets });

    public static readonly Histogram<long> TokenUsage = CastorDiagnostics.Meter.CreateHistogram<long>(
        "gen_ai.client.token.usage", "{token}", "Tokens a request used, by gen_ai.token.type (input: the prompt, output: answer and thoughts).",
        advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });

    public static readonly Histogram<double> PrefillRate = CastorDiagnostics.Meter.CreateHistogram<double>(
        "castor.prefill.rate", "{token}/s", "Prompt tokens computed per second of a request's prefill (resident tokens not counted).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RateBuckets });

    public static readonly Histogram<double> DecodeRate = CastorDiagnostics.Meter.CreateHistogram<double>(
        "castor.decode.rate", "{token}/s", "Output tokens per second of a request's decode.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RateBuckets });

    public static readonly Counter<long> ProjectRequests = CastorDiagnostics.Meter.CreateCounter<long>(
        "castor.project.requests", "{request}", "Generation and embedding requests, by project id and model (error.type when failed).");

    public static readonly Counter<long> ProjectTokens = CastorDiagnostics.Meter.CreateCounter<long>(
        "castor.project.tokens", "{token}", "Tokens used, by project id, model and gen_ai.token.type.");
}
