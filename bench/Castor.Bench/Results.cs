namespace Castor.Bench;

public sealed record ModelInfo(string Path, string Description, bool Synthesised, ulong Parameters, ulong Bytes, int Vocabulary, string Sample);

/// <summary>(a) One stream: the bare engine loop against the HTTP streaming API on a Parallel = 1 server.</summary>
public sealed class SingleStreamResult
{
    public required IReadOnlyList<BareRun> Bare { get; init; }
    public required IReadOnlyList<StreamResult> Http { get; init; }

    /// <summary>
    /// Process CPU time per generated token, every thread counted (llama.cpp's, the server's and the in-process client's);
    /// HTTP minus bare is what the server and its client cost per streamed token.
    /// </summary>
    public IReadOnlyList<double> BareCpuMicrosPerToken { get; init; } = [];
    public IReadOnlyList<double> HttpCpuMicrosPerToken { get; init; } = [];
    /// <summary>The same streams read by curl in another process (empty without curl).</summary>
    public IReadOnlyList<ExternalStreamResult> External { get; init; } = [];
    public double ExternalEndToEnd => Stats.Median(External.Select(r => r.EndToEndTokensPerSecond).ToList());
    public double ExternalEndToEndRatio => ExternalEndToEnd / BareEndToEnd;
    public double ServerCpuMicrosPerToken => Stats.Median(External.Select(r => r.ServerCpuMicrosPerToken).ToList());
    public double EngineCpuMicrosPerToken => Stats.Median(External.Select(r => r.EngineCpuMicrosPerToken).ToList());
    public double OtherCpuMicrosPerToken => Stats.Median(External.Select(r => r.OtherCpuMicrosPerToken).ToList());
    public double CpuMicrosPerTokenOverhead => Stats.Median(HttpCpuMicrosPerToken.ToList()) - Stats.Median(BareCpuMicrosPerToken.ToList());
    public double BareDecode => Stats.Median(Bare.Select(r => r.DecodeTokensPerSecond).ToList());
    public double HttpDecode => Stats.Median(Http.Select(r => r.DecodeTokensPerSecond).ToList());
    public double BareEndToEnd => Stats.Median(Bare.Select(r => r.EndToEndTokensPerSecond).ToList());
    public double HttpEndToEnd => Stats.Median(Http.Select(r => r.EndToEndTokensPerSecond).ToList());
    public double BareFirstTokenMs => Stats.Median(Bare.Select(r => r.PrefillSeconds * 1000).ToList());
    public double HttpTtftMs => Stats.Median(Http.Select(r => r.TtftMs).ToList());
    public double Ratio => HttpDecode / BareDecode;
    public double EndToEndRatio => HttpEndToEnd / BareEndToEnd;
    public const double Target = 0.97;
}

/// <summary>One round of (b): <see cref="Streams"/> requests sent at once; the aggregate is all their tokens over the round's wall time.</summary>
public sealed record ConcurrencyRun(int Streams, double WallSeconds, int Tokens, double MeanTtftMs, double MeanStreamDecode)
{
    public double Aggregate => Tokens / WallSeconds;
}

public sealed class ConcurrencyResult
{
    public required int Parallel { get; init; }
    public required IReadOnlyList<IReadOnlyList<ConcurrencyRun>> Levels { get; init; }
    /// <summary>The bare engine batching as many sequences, level by level (same order as <see cref="Levels"/>).</summary>
    public required IReadOnlyList<IReadOnlyList<BareBatchRun>> BareLevels { get; init; }
    public static double Aggregate(IReadOnlyList<ConcurrencyRun> runs) => Stats.Median(runs.Select(r => r.Aggregate).ToList());
    public static double BareAggregate(IReadOnlyList<BareBatchRun> runs) => Stats.Median(runs.Select(r => r.Aggregate).ToList());

    /// <summary>The bare engine's own top-level / one-sequence ratio: what the engine allows, whatever the server does.</summary>
    public double BareScaling
    {
        get
        {
            var one = BareLevels.FirstOrDefault(l => l[0].Streams == 1);
            var top = BareLevels.MaxBy(l => l[0].Streams);
            return one is null || top is null || top == one ? double.NaN : BareAggregate(top) / BareAggregate(one);
        }
    }
    public IReadOnlyList<ConcurrencyRun>? Level(int streams) => Levels.FirstOrDefault(l => l[0].Streams == streams);

    /// <summary>Aggregate at the highest level over aggregate at one stream (NaN without both).</summary>
    public double Scaling
    {
        get
        {
            var one = Level(1);
            var top = Levels.MaxBy(l => l[0].Streams);
            return one is null || top is null || top == one ? double.NaN : Aggregate(top) / Aggregate(one);
        }
    }
    public int TopStreams => Levels.Max(l => l[0].Streams);
    public const double Target = 2.5;
}

/// <summary>(c) Sequential time to first token, each request's prompt unique (miss) or sharing a long prefix (hit).</summary>
public sealed class TtftResult
{
    public required int PromptTokens { get; init; }
    public required int SharedPrefixTokens { get; init; }
    public required int DistinctFirstTokens { get; init; }
    public required IReadOnlyList<double> MissMs { get; init; }
    public required IReadOnlyList<double> HitMs { get; init; }
    public required double PrimeMs { get; init; }
    /// <summary>The bare engine's prefill + first sample for the same prompt text: the floor for a miss.</summary>
    public required IReadOnlyList<double> BarePrefillMs { get; init; }
    public double BarePrefillP50 => Stats.Percentile(BarePrefillMs.ToList(), 50);
    /// <summary>Single-stream decode rates measured after the TTFT requests, with their prompts resident in the slots.</summary>
    public required IReadOnlyList<double> ResidentDecode { get; init; }
    public double ResidentDecodeMedian => Stats.Median(ResidentDecode.ToList());
    public double MissP50 => Stats.Percentile(MissMs.ToList(), 50);
    public double MissP99 => Stats.Percentile(MissMs.ToList(), 99);
    public double HitP50 => Stats.Percentile(HitMs.ToList(), 50);
    public double HitP99 => Stats.Percentile(HitMs.ToList(), 99);
    public double Ratio => HitP50 / MissP50;
    public const double Target = 0.20;
}
