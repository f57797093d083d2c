using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Castor.Application.Batches;

namespace Castor.Bench;

/// <summary>
/// (i) Batch jobs beside interactive traffic, on one server with <c>--parallel</c> sequences:
/// 1. time to first token of an interactive stream while idle, then while a large batch job runs (the job is
///    resubmitted so it never runs dry); target: loaded ≤ 1.5 × idle (medians);
/// 2. aggregate tokens/s of K short requests run as one batch job (create → done) against the same K requests sent
///    concurrently as streams; target ≥ 0.8. Batch work uses every sequence (interactive requests preempt it), so the
///    ratio's ceiling is 1.
/// </summary>
public sealed class BatchJobBench(BenchOptions options, string modelPath, Action<string> log)
{
    public const double TtftTarget = 1.5;
    public const double ThroughputTarget = 0.8;

    public async Task<JsonObject> RunAsync(CancellationToken cancellationToken)
    {
        var runs = Math.Max(3, options.Runs);
        var parallel = Math.Max(2, options.Parallel);
        var tokens = options.Tokens;
        log($"(i) Batch jobs: parallel {parallel}, {tokens}-token answers, {runs} interactive requests per case");
        await using var server = await BenchServer.StartAsync(modelPath, options.Threads, parallel, options.ContextSize, options.Verbose, cancellationToken,
            configure: o =>
            {
                o.Batches = new BatchOptions { PollInterval = TimeSpan.FromMilliseconds(50) };
                // The concurrent side sends all K requests at once; the per-key limit would refuse most of them.
                o.Limits.MaxConcurrentRequestsPerKey = o.Limits.MaxConcurrentRequestsPerProject = 4 * parallel + 4;
                o.MaxQueue = Math.Max(o.MaxQueue, 4 * parallel + 4);
            });

        var interactive = Request(Prompts.Story(1), 8);
        await server.StreamAsync(interactive, cancellationToken);
        var idle = new List<double>();
        for (var i = 0; i < runs; i++) idle.Add((await server.StreamAsync(Request(Prompts.Story(100 + i), 8), cancellationToken)).TtftMs);

        // A job far larger than the measurement: every batch sequence stays busy throughout.
        var load = await CreateAsync(server, Enumerable.Range(0, 40 * parallel).Select(i => Request(Prompts.Story(1000 + i), tokens)), cancellationToken);
        await WaitRunningAsync(server, load, cancellationToken);
        var loaded = new List<double>();
        for (var i = 0; i < runs; i++) loaded.Add((await server.StreamAsync(Request(Prompts.Story(200 + i), 8), cancellationToken)).TtftMs);
        var pendingAfter = long.Parse((await server.SendJsonAsync(HttpMethod.Get, "v1beta/" + load, null, cancellationToken))["metadata"]!["batchStats"]!["pendingRequestCount"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        await server.SendJsonAsync(HttpMethod.Post, $"v1beta/{load}:cancel", new JsonObject(), cancellationToken);
        await WaitDoneAsync(server, load, cancellationToken);
        var ttftRatio = Stats.Median(loaded) / Stats.Median(idle);
        log(string.Create(CultureInfo.InvariantCulture,
            $"  TTFT idle {Stats.Median(idle):0.0} ms, with the batch running {Stats.Median(loaded):0.0} ms ({pendingAfter} batch requests still waiting): " +
            $"ratio {ttftRatio:0.00} (target ≤ {TtftTarget:0.0}: {(ttftRatio <= TtftTarget ? "PASS" : "FAIL")})"));

        // Throughput: the same K requests, as a batch job and as concurrent streams, alternating.
        var count = 4 * parallel;
        var batchRates = new List<double>();
        var concurrentRates = new List<double>();
        // Where a batch run's time goes: the job's own span on the server (createTime → endTime) against the client's
        // (the create call, and up to one 20 ms poll after the end).
        var serverShares = new List<double>();
        for (var run = 0; run < Math.Max(1, options.Runs); run++)
        {
            var requests = Enumerable.Range(0, count).Select(i => Request(Prompts.Story(5000 + i), tokens)).ToList();
            var clock = Stopwatch.StartNew();
            var job = await CreateAsync(server, requests, cancellationToken);
            var done = await WaitDoneAsync(server, job, cancellationToken);
            var batchTokens = done["metadata"]!["output"]!["inlinedResponses"]!["inlinedResponses"]!.AsArray()
                .Sum(r => r!["response"]?["usageMetadata"]?["candidatesTokenCount"]?.GetValue<int>() ?? 0);
            batchRates.Add(batchTokens / clock.Elapsed.TotalSeconds);
            var metadata = done["metadata"]!;
            var serverSpan = DateTimeOffset.Parse(metadata["endTime"]!.GetValue<string>(), CultureInfo.InvariantCulture)
                             - DateTimeOffset.Parse(metadata["createTime"]!.GetValue<string>(), CultureInfo.InvariantCulture);
            serverShares.Add(serverSpan.TotalSeconds / clock.Elapsed.TotalSeconds);

            clock.Restart();
            var streams = await Task.WhenAll(requests.Select(r => server.StreamAsync((JsonObject)r.DeepClone(), cancellationToken)));
            concurrentRates.Add(streams.Sum(s => s.CandidatesTokens) / clock.Elapsed.TotalSeconds);
            log(string.Create(CultureInfo.InvariantCulture,
                $"  run {run + 1}: batch job {batchRates[^1]:0.0} tok/s ({serverShares[^1]:P0} of it between the job's createTime and endTime), concurrent streams {concurrentRates[^1]:0.0} tok/s"));
        }
        var throughputRatio = Stats.Median(batchRates) / Stats.Median(concurrentRates);
        log(string.Create(CultureInfo.InvariantCulture,
            $"  {count} requests: batch {Stats.Median(batchRates):0.0} tok/s vs concurrent {Stats.Median(concurrentRates):0.0} tok/s, ratio {throughputRatio:0.00} " +
            $"(target ≥ {ThroughputTarget:0.0}: {(throughputRatio >= ThroughputTarget ? "PASS" : "FAIL")})"));

        return new JsonObject
        {
            ["parallel"] = parallel,
            ["tokens"] = tokens,
            ["idleTtftMs"] = new JsonArray(idle.Select(v => (JsonNode?)Math.Round(v, 1)).ToArray()),
            ["loadedTtftMs"] = new JsonArray(loaded.Select(v => (JsonNode?)Math.Round(v, 1)).ToArray()),
            ["ttftRatio"] = Math.Round(ttftRatio, 3),
            ["ttftTarget"] = TtftTarget,
            ["batchTokensPerSecond"] = new JsonArray(batchRates.Select(v => (JsonNode?)Math.Round(v, 1)).ToArray()),
            ["concurrentTokensPerSecond"] = new JsonArray(concurrentRates.Select(v => (JsonNode?)Math.Round(v, 1)).ToArray()),
            ["throughputRatio"] = Math.Round(throughputRatio, 3),
            ["batchServerShare"] = new JsonArray(serverShares.Select(v => (JsonNode?)Math.Round(v, 3)).ToArray()),
            ["throughputTarget"] = ThroughputTarget,
        };
    }

    private static async Task<string> CreateAsync(BenchServer server, IEnumerable<JsonObject> requests, CancellationToken cancellationToken)
    {
        var list = new JsonArray(requests.Select(r => (JsonNode?)new JsonObject { ["request"] = r.DeepClone() }).ToArray());
        var body = new JsonObject { ["batch"] = new JsonObject { ["inputConfig"] = new JsonObject { ["requests"] = new JsonObject { ["requests"] = list } } } };
        var operation = await server.SendJsonAsync(HttpMethod.Post, $"v1beta/models/{server.ModelId}:batchGenerateContent", body, cancellationToken);
        return operation["name"]!.GetValue<string>();
    }

    private static async Task WaitRunningAsync(BenchServer server, string name, CancellationToken cancellationToken)
    {
        while ((await server.SendJsonAsync(HttpMethod.Get, "v1beta/" + name, null, cancellationToken))["metadata"]!["state"]!.GetValue<string>() == "BATCH_STATE_PENDING")
            await Task.Delay(20, cancellationToken);
        // Let the batch fill its sequences before measuring.
        await Task.Delay(300, cancellationToken);
    }

    private static async Task<JsonNode> WaitDoneAsync(BenchServer server, string name, CancellationToken cancellationToken)
    {
        while (true)
        {
            var operation = await server.SendJsonAsync(HttpMethod.Get, "v1beta/" + name, null, cancellationToken);
            if (operation["done"]?.GetValue<bool>() == true) return operation;
            await Task.Delay(20, cancellationToken);
        }
    }

    private JsonObject Request(string text, int tokens) => new()
    {
        ["contents"] = new JsonArray(new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = text }) }),
        ["generationConfig"] = new JsonObject { ["maxOutputTokens"] = tokens, ["temperature"] = 1.0, ["topP"] = 0.95, ["topK"] = 64, ["seed"] = options.Seed },
    };
}
