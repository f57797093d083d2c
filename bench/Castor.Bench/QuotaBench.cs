using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Castor.Application.Keys;
using Castor.Application.Quotas;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.Bench;

/// <summary>
/// (k) What rate limits cost a request: two servers on the same model, one with a tier whose limits are never reached
/// (every request goes through the limiter: one upsert in SQLite) and one without tiers (no limiter installed).
/// 1. end to end: rounds of 64 concurrent short generateContent calls (1 output token), alternating servers; the
///    difference of the medians is the latency the limiter adds (target ≤ 0.2 ms);
/// 2. the limiter alone: 64 concurrent callers admitting requests straight through the limited server's
///    <see cref="QuotaLimiter"/>, the median time of one admission (the store round trip it makes).
/// </summary>
public sealed class QuotaBench(BenchOptions options, string modelPath, Action<string> log)
{
    public const double TargetMs = 0.2;
    private const int Concurrent = 64;

    public async Task<JsonObject> RunAsync(CancellationToken cancellationToken)
    {
        var runs = Math.Max(3, options.Runs);
        log($"(k) Rate limits: {Concurrent} concurrent 1-token requests, limiter on vs off, {runs} rounds each");
        var parallel = Math.Max(1, options.Parallel);
        void Roomy(Castor.Server.CastorOptions o)
        {
            // All 64 are sent at once from one key; neither the per-key limit nor the queue may refuse them.
            o.Limits.MaxConcurrentRequestsPerKey = o.Limits.MaxConcurrentRequestsPerProject = 2 * Concurrent;
            o.MaxQueue = Math.Max(o.MaxQueue, 2 * Concurrent);
            o.BuiltinEmbeddingModel = false;
        }
        await using var off = await BenchServer.StartAsync(modelPath, options.Threads, parallel, options.ContextSize, options.Verbose, cancellationToken, configure: Roomy);
        await using var on = await BenchServer.StartAsync(modelPath, options.Threads, parallel, options.ContextSize, options.Verbose, cancellationToken,
            configure: o =>
            {
                Roomy(o);
                const long never = 1_000_000_000_000;
                o.Quotas = new QuotaOptions { DefaultTier = "bench", Tiers = new() { ["bench"] = new() { ["*"] = new QuotaLimits { Rpm = never, Tpm = never, Rpd = never } } } };
            });

        var offMs = new List<double>();
        var onMs = new List<double>();
        await RoundAsync(off, cancellationToken);
        await RoundAsync(on, cancellationToken);
        for (var run = 0; run < runs; run++)
        {
            // Alternating which goes first, so a drift in the machine's load falls on both.
            var (first, second, firstList, secondList) = run % 2 == 0 ? (off, on, offMs, onMs) : (on, off, onMs, offMs);
            firstList.AddRange(await RoundAsync(first, cancellationToken));
            secondList.AddRange(await RoundAsync(second, cancellationToken));
            log(string.Create(CultureInfo.InvariantCulture,
                $"  round {run + 1}: median off {Stats.Median(offMs[^Concurrent..]):0.00} ms, on {Stats.Median(onMs[^Concurrent..]):0.00} ms"));
        }
        var added = Stats.Median(onMs) - Stats.Median(offMs);

        var limiter = on.Services.GetRequiredService<QuotaLimiter>();
        var caller = await on.Services.GetRequiredService<ApiKeyService>().AuthenticateAsync(BenchServer.ApiKey, cancellationToken);
        var admissions = await AdmitAsync(limiter, caller, on.ModelId, 20, cancellationToken);
        var admitMedian = Stats.Median(admissions);
        var pass = added <= TargetMs;
        log(string.Create(CultureInfo.InvariantCulture,
            $"  end to end: median {Stats.Median(offMs):0.00} ms off, {Stats.Median(onMs):0.00} ms on: {added:+0.000;-0.000} ms (target ≤ {TargetMs} ms: {(pass ? "PASS" : "FAIL")}); " +
            $"one admission alone, {Concurrent} at once: median {admitMedian:0.000} ms"));

        return new JsonObject
        {
            ["concurrent"] = Concurrent,
            ["rounds"] = runs,
            ["offMedianMs"] = Math.Round(Stats.Median(offMs), 3),
            ["onMedianMs"] = Math.Round(Stats.Median(onMs), 3),
            ["addedMedianMs"] = Math.Round(added, 3),
            ["admissionMedianMs"] = Math.Round(admitMedian, 4),
            ["admissionSamples"] = admissions.Count,
            ["targetMs"] = TargetMs,
            ["pass"] = pass,
        };
    }

    private static async Task<List<double>> RoundAsync(BenchServer server, CancellationToken cancellationToken)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, Concurrent).Select(async i =>
        {
            await start.Task;
            var body = new JsonObject
            {
                ["contents"] = new JsonArray(new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = Prompts.Story(i) }) }),
                ["generationConfig"] = new JsonObject { ["maxOutputTokens"] = 1, ["seed"] = 1 },
            };
            var clock = Stopwatch.StartNew();
            await server.PostJsonAsync($"v1beta/models/{server.ModelId}:generateContent", body, cancellationToken);
            return clock.Elapsed.TotalMilliseconds;
        }).ToList();
        start.SetResult();
        return [.. await Task.WhenAll(calls)];
    }

    private static async Task<List<double>> AdmitAsync(QuotaLimiter limiter, Caller caller, string model, int each, CancellationToken cancellationToken)
    {
        var samples = await Task.WhenAll(Enumerable.Range(0, Concurrent).Select(_ => Task.Run(async () =>
        {
            var times = new List<double>(each);
            for (var i = 0; i < each; i++)
            {
                var clock = Stopwatch.StartNew();
                await limiter.AdmitAsync(caller, QuotaOperation.GenerateContent, model, model, 1, 16, cancellationToken);
                times.Add(clock.Elapsed.TotalMilliseconds);
            }
            return times;
        }, cancellationToken)));
        return samples.SelectMany(s => s).ToList();
    }
}
