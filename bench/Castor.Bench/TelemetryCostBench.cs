using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Castor.Bench;

/// <summary>
/// (l) What metrics and tracing cost: one stream of <c>--tokens</c> tokens through HTTP on a server with metrics on
/// (Metrics:Enabled: the OpenTelemetry meter provider with the Prometheus reader, scraped after every stream) and every
/// span recorded (an ActivityListener on the Castor and ASP.NET Core sources that samples all: the span work an OTLP
/// exporter would be fed, without its network), against the same stream on a server with Metrics:Enabled false and no
/// listener. The instruments are process-wide, so the two servers never run at once: each run starts one, warms it up,
/// measures, stops it, then the other, in alternating order, so a neighbour's burst lands on both. Target: on/off ≥ 0.98.
/// </summary>
public sealed class TelemetryCostBench(BenchOptions options, string modelPath, Action<string> log)
{
    public const double Target = 0.98;

    public async Task<JsonObject> RunAsync(CancellationToken cancellationToken)
    {
        var runs = Math.Max(1, options.Runs);
        log($"(l) Telemetry cost: one stream of {options.Tokens} tokens with metrics and tracing on vs off, {runs} run(s) each, alternating");
        var on = new List<double>();
        var off = new List<double>();
        var onCpu = new List<double>();
        var offCpu = new List<double>();
        var spans = 0L;
        for (var run = 0; run < runs; run++)
        {
            foreach (var enabled in run % 2 == 0 ? new[] { true, false } : [false, true])
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (rate, cpu, recorded) = await MeasureAsync(enabled, cancellationToken);
                (enabled ? on : off).Add(rate);
                (enabled ? onCpu : offCpu).Add(cpu);
                spans += recorded;
            }
            log(string.Create(CultureInfo.InvariantCulture,
                $"  run {run + 1}/{runs}: on {on[^1]:0.0} tok/s ({onCpu[^1]:0} µs CPU/token), off {off[^1]:0.0} tok/s ({offCpu[^1]:0} µs CPU/token)"));
        }
        var ratio = Stats.Median(on) / Stats.Median(off);
        // CPU time per token (the whole process: server, engine and the bench's client, the same in both) is far less
        // disturbed by other processes than wall-clock rates are, so it is the figure to read on a busy machine.
        var cpuRatio = Stats.Median(onCpu) / Stats.Median(offCpu);
        log(string.Create(CultureInfo.InvariantCulture,
            $"  median: on {Stats.Median(on):0.0} tok/s, off {Stats.Median(off):0.0} tok/s, ratio {ratio:0.000} (target ≥ {Target:0.00}: {(ratio >= Target ? "PASS" : "FAIL")}); CPU per token on/off {cpuRatio:0.000}; {spans} spans recorded"));
        return new JsonObject
        {
            ["tokens"] = options.Tokens,
            ["onTokensPerSecond"] = new JsonArray(on.Select(v => (JsonNode?)Math.Round(v, 1)).ToArray()),
            ["offTokensPerSecond"] = new JsonArray(off.Select(v => (JsonNode?)Math.Round(v, 1)).ToArray()),
            ["onCpuMicrosPerToken"] = new JsonArray(onCpu.Select(v => (JsonNode?)Math.Round(v, 1)).ToArray()),
            ["offCpuMicrosPerToken"] = new JsonArray(offCpu.Select(v => (JsonNode?)Math.Round(v, 1)).ToArray()),
            ["cpuRatio"] = Math.Round(cpuRatio, 4),
            ["spansRecorded"] = spans,
            ["ratio"] = Math.Round(ratio, 4),
            ["target"] = Target,
            ["pass"] = ratio >= Target,
        };
    }

    private async Task<(double Rate, double CpuMicrosPerToken, long Spans)> MeasureAsync(bool enabled, CancellationToken cancellationToken)
    {
        long spans = 0;
        using var listener = enabled
            ? new ActivityListener
            {
                ShouldListenTo = s => s.Name is "Castor" or "Microsoft.AspNetCore",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _ => Interlocked.Increment(ref spans),
            }
            : null;
        if (listener is not null) ActivitySource.AddActivityListener(listener);
        await using var server = await BenchServer.StartAsync(modelPath, options.Threads, 1, options.ContextSize, options.Verbose, cancellationToken,
            configure: o => o.Metrics.Enabled = enabled);
        var story = Prompts.Story(0);
        await server.StreamAsync(Request(story, options.Tokens), cancellationToken);
        if (enabled) await server.ScrapeMetricsAsync(cancellationToken);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var result = await server.StreamAsync(Request(story, options.Tokens), cancellationToken);
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / Math.Max(1, result.CandidatesTokens);
        // Collection happens on a scrape (Prometheus pulls), outside the measured stream, as it would every few seconds.
        if (enabled) await server.ScrapeMetricsAsync(cancellationToken);
        return (result.DecodeTokensPerSecond, cpu, Interlocked.Read(ref spans));
    }

    private static JsonObject Request(string text, int tokens) => new()
    {
        ["contents"] = new JsonArray(new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = text }) }),
        ["generationConfig"] = new JsonObject { ["maxOutputTokens"] = tokens, ["temperature"] = 1.0, ["topP"] = 0.95, ["topK"] = 64, ["seed"] = 42 },
    };
}
