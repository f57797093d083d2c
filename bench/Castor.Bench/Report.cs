using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Castor.Bench;

/// <summary>The printed table and the JSON summary.</summary>
public sealed class Report(BenchOptions options)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public ModelInfo? Model { get; set; }
    public SingleStreamResult? SingleStream { get; set; }
    public ConcurrencyResult? Concurrency { get; set; }
    public TtftResult? Ttft { get; set; }
    /// <summary>(d), as Bench builds it: the grammar's cost.</summary>
    public JsonObject? GrammarCost { get; set; }
    public JsonObject? LongPrompts { get; set; }
    public JsonObject? IdlePrefixes { get; set; }
    public JsonObject? Images { get; set; }

    /// <summary>(h) Cached contents: TTFT with a restored snapshot vs inline, fresh and after a restart.</summary>
    public JsonObject? CachedContents { get; set; }

    /// <summary>(i) Batch jobs beside interactive traffic.</summary>
    public JsonObject? BatchJobs { get; set; }

    /// <summary>(j) Live sessions: turn 10 against turn 1, a resumed session against a fresh one.</summary>
    public JsonObject? Live { get; set; }

    /// <summary>(k) Rate limits: latency the limiter adds.</summary>
    public JsonObject? Quotas { get; set; }
    public double ElapsedSeconds { get; set; }
    public double LoadAtStart { get; set; } = double.NaN;
    public double LoadAtEnd { get; set; } = double.NaN;
    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    public void Print(TextWriter o)
    {
        o.WriteLine("== Castor benchmark ==");
        if (Model is { } m)
            o.WriteLine(F($"Model   {Path.GetFileName(m.Path)}: {m.Description}; {m.Parameters / 1e6:0.0} M parameters, {m.Bytes / (1024.0 * 1024):0.0} MiB"));
        o.WriteLine(F($"Setup   {options.DecodeThreads} decode threads ({options.BatchThreads} for prompts) on {Environment.ProcessorCount} logical processors ({CpuName()}), {options.Tokens} tokens per stream, medians of {options.Runs} runs, context {options.ContextSize}/sequence, seed {options.Seed}; took {ElapsedSeconds:0} s"));
        o.WriteLine(F($"Load    1-minute load average {LoadAtStart:0.00} before, {LoadAtEnd:0.00} after (the bench itself keeps {options.BatchThreads} busy)"));

        if (SingleStream is { } a)
        {
            o.WriteLine();
            o.WriteLine("(a) Single-stream decode, tokens/s  (decode: after the first token; end-to-end: from the request, prompt included)");
            o.WriteLine("                                          decode   end-to-end   first token");
            o.WriteLine(F($"    bare engine loop (in-process)     {a.BareDecode,10:0.0}   {a.BareEndToEnd,10:0.0}   {a.BareFirstTokenMs,8:0} ms"));
            o.WriteLine(F($"    HTTP streamGenerateContent (SSE)  {a.HttpDecode,10:0.0}   {a.HttpEndToEnd,10:0.0}   {a.HttpTtftMs,8:0} ms"));
            o.WriteLine(F($"    HTTP / bare                       {a.Ratio,10:0.000}   {a.EndToEndRatio,10:0.000}   target ≥ {SingleStreamResult.Target:0.00} (decode): {Verdict(a.Ratio >= SingleStreamResult.Target)}"));
            if (a.HttpCpuMicrosPerToken.Count > 0)
                o.WriteLine(F($"    CPU per token (all threads)       bare {Stats.Median(a.BareCpuMicrosPerToken.ToList()):0} µs, HTTP {Stats.Median(a.HttpCpuMicrosPerToken.ToList()):0} µs: the server and its client cost {a.CpuMicrosPerTokenOverhead:0} µs a token"));
            if (a.External.Count > 0)
            {
                o.WriteLine(F($"    HTTP, curl in its own process     {"",10}   {a.ExternalEndToEnd,10:0.0}   (÷ bare end-to-end: {a.ExternalEndToEndRatio:0.000})"));
                o.WriteLine(F($"    server CPU per token (curl run)   {a.ServerCpuMicrosPerToken:0} µs: engine threads (decode, sampling, detokenizing) {a.EngineCpuMicrosPerToken:0} µs, the rest (adapter, JSON, stream writes, Kestrel) {a.OtherCpuMicrosPerToken:0} µs"));
            }
        }

        if (Concurrency is { } b)
        {
            o.WriteLine();
            o.WriteLine(F($"(b) Concurrent streams, server Parallel = {b.Parallel}, tokens/s"));
            o.WriteLine("                      HTTP API (server)                            bare engine, batched");
            o.WriteLine("    streams   aggregate   per stream   vs 1 stream   mean TTFT    aggregate   vs 1 seq   HTTP/bare");
            var one = b.Level(1) is { } l1 ? ConcurrencyResult.Aggregate(l1) : double.NaN;
            var bareOne = b.BareLevels.FirstOrDefault(l => l[0].Streams == 1) is { } bl1 ? ConcurrencyResult.BareAggregate(bl1) : double.NaN;
            for (var i = 0; i < b.Levels.Count; i++)
            {
                var level = b.Levels[i];
                var agg = ConcurrencyResult.Aggregate(level);
                var per = Stats.Median(level.Select(r => r.MeanStreamDecode).ToList());
                var ttft = Stats.Median(level.Select(r => r.MeanTtftMs).ToList());
                var bare = ConcurrencyResult.BareAggregate(b.BareLevels[i]);
                o.WriteLine(F($"    {level[0].Streams,7}   {agg,9:0.0}   {per,10:0.0}   {agg / one,10:0.00}×   {ttft,6:0} ms   {bare,10:0.0}   {bare / bareOne,7:0.00}×   {agg / bare,9:0.000}"));
            }
            if (!double.IsNaN(b.Scaling))
                o.WriteLine(F($"    {b.TopStreams} streams / 1 stream: {b.Scaling:0.00}×   target ≥ {ConcurrencyResult.Target:0.0}×: {Verdict(b.Scaling >= ConcurrencyResult.Target)}   (bare engine: {b.BareScaling:0.00}×)"));
        }

        if (Ttft is { } c)
        {
            o.WriteLine();
            o.WriteLine(F($"(c) Time to first token, sequential, prompt ≈ {c.PromptTokens:N0} tokens, shared prefix ≈ {c.SharedPrefixTokens:N0} tokens, {c.MissMs.Count} requests each"));
            o.WriteLine("                                   p50          p99");
            o.WriteLine(F($"    without shared prefix (miss) {c.MissP50,8:N0} ms  {c.MissP99,8:N0} ms"));
            o.WriteLine(F($"    with shared prefix (hit)     {c.HitP50,8:N0} ms  {c.HitP99,8:N0} ms"));
            o.WriteLine(F($"    bare engine prefill (floor)  {c.BarePrefillP50,8:N0} ms               (same prompt, no server, {c.BarePrefillMs.Count} samples)"));
            o.WriteLine(F($"    hit p50 / miss p50: {c.Ratio:0.00}   target ≤ {TtftResult.Target:0.00}: {Verdict(c.Ratio <= TtftResult.Target)}"));
            var freshDecode = Concurrency?.Level(1) is { } d1 ? Stats.Median(d1.Select(r => r.MeanStreamDecode).ToList()) : double.NaN;
            o.WriteLine(double.IsNaN(freshDecode)
                ? F($"    single-stream decode afterwards, with these prompts resident: {c.ResidentDecodeMedian:0.0} tok/s")
                : F($"    single-stream decode afterwards, with these prompts resident: {c.ResidentDecodeMedian:0.0} tok/s (in (b), with short prompts resident: {freshDecode:0.0}; ratio {c.ResidentDecodeMedian / freshDecode:0.00})"));
        }
    }

    /// <summary>Writes the JSON summary to <paramref name="path"/> and, when that is the default latest.json, a dated copy beside it.</summary>
    public IReadOnlyList<string> Write(string path)
    {
        var json = ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, json + "\n");
        var written = new List<string> { full };
        if (options.Output is null)
        {
            var dated = Path.Combine(Path.GetDirectoryName(full)!, Started.ToString("yyyyMMdd-HHmmss", Inv) + ".json");
            File.WriteAllText(dated, json + "\n");
            written.Add(dated);
        }
        return written;
    }

    public JsonObject ToJson()
    {
        var root = new JsonObject
        {
            ["started"] = Started.ToString("O", Inv),
            ["elapsedSeconds"] = Num(ElapsedSeconds, 1),
            ["machine"] = new JsonObject
            {
                ["logicalProcessors"] = Environment.ProcessorCount,
                ["cpu"] = CpuName(),
                ["os"] = RuntimeInformation.OSDescription,
                ["runtime"] = RuntimeInformation.FrameworkDescription,
                ["loadAverageBefore"] = Num(LoadAtStart),
                ["loadAverageAfter"] = Num(LoadAtEnd),
            },
            ["settings"] = new JsonObject
            {
                ["threads"] = options.DecodeThreads,
                ["batchThreads"] = options.BatchThreads,
                ["tokensPerStream"] = options.Tokens,
                ["runs"] = options.Runs,
                ["parallel"] = options.Parallel,
                ["contextPerSequence"] = options.ContextSize,
                ["prefixTokens"] = options.PrefixTokens,
                ["ttftRequests"] = options.TtftRequests,
                ["seed"] = options.Seed,
                ["sampling"] = "temperature 1.0, topP 0.95, topK 64, fixed seed",
            },
        };
        if (Model is { } m)
        {
            root["model"] = new JsonObject
            {
                ["file"] = Path.GetFileName(m.Path),
                ["path"] = m.Path,
                ["description"] = m.Description,
                ["synthesised"] = m.Synthesised,
                ["size"] = m.Synthesised ? options.Size : null,
                ["weightType"] = m.Synthesised ? options.WeightType.ToString() : null,
                ["parameters"] = m.Parameters,
                ["bytes"] = m.Bytes,
                ["vocabulary"] = m.Vocabulary,
            };
        }
        if (SingleStream is { } a)
        {
            root["singleStream"] = new JsonObject
            {
                ["bareDecodeTokensPerSecond"] = Num(a.BareDecode),
                ["httpDecodeTokensPerSecond"] = Num(a.HttpDecode),
                ["httpToBareRatio"] = Num(a.Ratio, 4),
                ["target"] = SingleStreamResult.Target,
                ["pass"] = a.Ratio >= SingleStreamResult.Target,
                ["bareEndToEndTokensPerSecond"] = Num(a.BareEndToEnd),
                ["httpEndToEndTokensPerSecond"] = Num(a.HttpEndToEnd),
                ["endToEndRatio"] = Num(a.EndToEndRatio, 4),
                ["bareCpuMicrosPerToken"] = Array(a.BareCpuMicrosPerToken.ToList()),
                ["httpCpuMicrosPerToken"] = Array(a.HttpCpuMicrosPerToken.ToList()),
                ["cpuMicrosPerTokenOverhead"] = Num(a.CpuMicrosPerTokenOverhead),
                ["externalClientEndToEndTokensPerSecond"] = a.External.Count > 0 ? Num(a.ExternalEndToEnd) : null,
                ["externalClientEndToEndRatio"] = a.External.Count > 0 ? Num(a.ExternalEndToEndRatio, 4) : null,
                ["serverCpuMicrosPerToken"] = a.External.Count > 0 ? Num(a.ServerCpuMicrosPerToken) : null,
                ["serverEngineThreadsCpuMicrosPerToken"] = a.External.Count > 0 ? Num(a.EngineCpuMicrosPerToken) : null,
                ["serverOtherThreadsCpuMicrosPerToken"] = a.External.Count > 0 ? Num(a.OtherCpuMicrosPerToken) : null,
                ["bareFirstTokenMs"] = Num(a.BareFirstTokenMs),
                ["httpTtftMs"] = Num(a.HttpTtftMs),
                ["runs"] = new JsonObject
                {
                    ["bareDecodeTokensPerSecond"] = Array(a.Bare.Select(r => r.DecodeTokensPerSecond)),
                    ["httpDecodeTokensPerSecond"] = Array(a.Http.Select(r => r.DecodeTokensPerSecond)),
                    ["httpCandidatesTokens"] = new JsonArray(a.Http.Select(r => (JsonNode?)r.CandidatesTokens).ToArray()),
                    ["promptTokens"] = a.Http.Count > 0 ? a.Http[0].PromptTokens : null,
                },
            };
        }
        if (Concurrency is { } b)
        {
            var one = b.Level(1) is { } l1 ? ConcurrencyResult.Aggregate(l1) : double.NaN;
            root["concurrency"] = new JsonObject
            {
                ["parallel"] = b.Parallel,
                ["levels"] = new JsonArray(b.Levels.Select((level, i) => (JsonNode?)new JsonObject
                {
                    ["streams"] = level[0].Streams,
                    ["aggregateTokensPerSecond"] = Num(ConcurrencyResult.Aggregate(level)),
                    ["perStreamDecodeTokensPerSecond"] = Num(Stats.Median(level.Select(r => r.MeanStreamDecode).ToList())),
                    ["meanTtftMs"] = Num(Stats.Median(level.Select(r => r.MeanTtftMs).ToList())),
                    ["vsOneStream"] = Num(ConcurrencyResult.Aggregate(level) / one, 3),
                    ["runs"] = Array(level.Select(r => r.Aggregate)),
                    ["bareAggregateTokensPerSecond"] = Num(ConcurrencyResult.BareAggregate(b.BareLevels[i])),
                    ["bareRuns"] = Array(b.BareLevels[i].Select(r => r.Aggregate)),
                    ["httpToBareRatio"] = Num(ConcurrencyResult.Aggregate(level) / ConcurrencyResult.BareAggregate(b.BareLevels[i]), 3),
                }).ToArray()),
                ["topToOneStreamRatio"] = Num(b.Scaling, 3),
                ["bareTopToOneRatio"] = Num(b.BareScaling, 3),
                ["topStreams"] = b.TopStreams,
                ["target"] = ConcurrencyResult.Target,
                ["pass"] = double.IsNaN(b.Scaling) ? null : b.Scaling >= ConcurrencyResult.Target,
            };
        }
        if (GrammarCost is { } d)
            root["grammarCost"] = d;
        if (LongPrompts is { } e)
            root["longPrompts"] = e;
        if (IdlePrefixes is { } f)
            root["idlePrefixes"] = f;
        if (Images is { } g)
            root["images"] = g;
        if (CachedContents is { } h)
            root["cachedContents"] = h;
        if (BatchJobs is { } i)
            root["batchJobs"] = i;
        if (Live is { } j)
            root["live"] = j;
        if (Quotas is { } k)
            root["quotas"] = k;
        if (Ttft is { } c)
        {
            root["ttft"] = new JsonObject
            {
                ["promptTokens"] = c.PromptTokens,
                ["sharedPrefixTokens"] = c.SharedPrefixTokens,
                ["requestsPerCase"] = c.MissMs.Count,
                ["distinctFirstTokens"] = c.DistinctFirstTokens,
                ["miss"] = new JsonObject { ["p50Ms"] = Num(c.MissP50), ["p99Ms"] = Num(c.MissP99), ["samplesMs"] = Array(c.MissMs) },
                ["hit"] = new JsonObject { ["p50Ms"] = Num(c.HitP50), ["p99Ms"] = Num(c.HitP99), ["samplesMs"] = Array(c.HitMs) },
                ["primeMs"] = Num(c.PrimeMs),
                ["barePrefillP50Ms"] = Num(c.BarePrefillP50),
                ["barePrefillSamplesMs"] = Array(c.BarePrefillMs),
                ["hitToMissP50Ratio"] = Num(c.Ratio, 4),
                ["residentSingleStreamDecodeTokensPerSecond"] = Num(c.ResidentDecodeMedian),
                ["residentSingleStreamDecodeRuns"] = Array(c.ResidentDecode),
                ["target"] = TtftResult.Target,
                ["pass"] = c.Ratio <= TtftResult.Target,
            };
        }
        return root;
    }

    private static JsonNode? Num(double value, int digits = 2) => double.IsFinite(value) ? JsonValue.Create(Math.Round(value, digits)) : null;

    private static JsonArray Array(IEnumerable<double> values) => new(values.Select(v => Num(v)).ToArray());

    private static string Verdict(bool pass) => pass ? "PASS" : "FAIL";

    private static string F(FormattableString s) => s.ToString(Inv);

    private static string CpuName()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal))
                        return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
