using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Castor.Bench;

/// <summary>
/// (h) Cached contents: time to first token of a short question after a ~2,000-token cached prefix (its KV snapshot
/// restored into a free sequence, nothing resident) ÷ the same request with the prefix inline and nothing resident;
/// then the same after a server restart on the same data folder (the snapshot read from disk). Also the cache's create
/// time and its snapshot's size per 1,000 tokens. Targets: ≤ 0.05 and ≤ 0.10.
/// </summary>
public sealed class CachedContentBench(BenchOptions options, string modelPath, Action<string> log)
{
    public const double Target = 0.05;
    public const double RestartTarget = 0.10;
    private const int PrefixTokens = 2000;
    private const int AnswerTokens = 4;

    public async Task<JsonObject> RunAsync(CancellationToken cancellationToken)
    {
        var runs = Math.Max(1, options.Runs);
        var restarts = Math.Min(runs, 3);
        var context = Math.Max(options.ContextSize, PrefixTokens + 256);
        var data = Path.Combine(Path.GetTempPath(), "castor-bench-cache-" + Guid.NewGuid().ToString("N")[..8]);
        log($"(h) Cached contents: TTFT after a ~{PrefixTokens}-token cached prefix vs the prefix inline, {runs} run(s), {restarts} restart(s)");
        try
        {
            string name;
            int cacheTokens;
            double createMs;
            List<double> cachedMs = [], inlineMs = [];
            string document;
            await using (var server = await BenchServer.StartAsync(modelPath, options.Threads, 2, context, options.Verbose, cancellationToken, dataFolder: data))
            {
                document = await DocumentAsync(server, cancellationToken);
                var started = Stopwatch.GetTimestamp();
                var cache = await server.PostJsonAsync("v1beta/cachedContents", new JsonObject
                {
                    ["model"] = "models/" + server.ModelId,
                    ["contents"] = new JsonArray(User(document)),
                    ["ttl"] = "3600s",
                }, cancellationToken);
                createMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                name = (string)cache["name"]!;
                cacheTokens = (int)cache["usageMetadata"]!["totalTokenCount"]!;
                log(string.Create(CultureInfo.InvariantCulture, $"  created {name}: {cacheTokens} tokens in {createMs:0} ms"));

                for (var run = 0; run < runs; run++)
                {
                    // Alternating order, so a neighbour's burst lands on both; nothing resident before either.
                    if (run % 2 == 0)
                    {
                        cachedMs.Add(await TtftAsync(server, Cached(name), cancellationToken));
                        inlineMs.Add(await TtftAsync(server, Inline(document), cancellationToken));
                    }
                    else
                    {
                        inlineMs.Add(await TtftAsync(server, Inline(document), cancellationToken));
                        cachedMs.Add(await TtftAsync(server, Cached(name), cancellationToken));
                    }
                    log(string.Create(CultureInfo.InvariantCulture, $"  run {run + 1}/{runs}: cached {cachedMs[^1]:0.0} ms, inline {inlineMs[^1]:0.0} ms"));
                }
            }

            var snapshotBytes = Directory.GetFiles(Path.Combine(data, "caches"), "*.kv", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            List<double> restartMs = [], restartInlineMs = [];
            for (var restart = 0; restart < restarts; restart++)
            {
                // A fresh process state: nothing in memory, the snapshot only on disk.
                await using var server = await BenchServer.StartAsync(modelPath, options.Threads, 2, context, options.Verbose, cancellationToken, dataFolder: data);
                restartMs.Add(await TtftAsync(server, Cached(name), cancellationToken));
                restartInlineMs.Add(await TtftAsync(server, Inline(document), cancellationToken));
                log(string.Create(CultureInfo.InvariantCulture, $"  restart {restart + 1}/{restarts}: cached (from disk) {restartMs[^1]:0.0} ms, inline {restartInlineMs[^1]:0.0} ms"));
            }

            var ratio = Stats.Median(cachedMs) / Stats.Median(inlineMs);
            var restartRatio = Stats.Median(restartMs) / Stats.Median(inlineMs.Concat(restartInlineMs).ToList());
            var bytesPer1000 = snapshotBytes * 1000.0 / cacheTokens;
            log(string.Create(CultureInfo.InvariantCulture,
                $"  median TTFT: cached {Stats.Median(cachedMs):0.0} ms, inline {Stats.Median(inlineMs):0.0} ms, ratio {ratio:0.000} (target ≤ {Target:0.00}: {(ratio <= Target ? "PASS" : "FAIL")}); " +
                $"after restart {Stats.Median(restartMs):0.0} ms, ratio {restartRatio:0.000} (target ≤ {RestartTarget:0.00}: {(restartRatio <= RestartTarget ? "PASS" : "FAIL")})"));
            log(string.Create(CultureInfo.InvariantCulture,
                $"  create {createMs:0} ms for {cacheTokens} tokens; snapshot {snapshotBytes / 1048576.0:0.00} MiB = {bytesPer1000 / 1048576.0:0.00} MiB per 1,000 tokens"));
            return new JsonObject
            {
                ["cacheTokens"] = cacheTokens,
                ["createMs"] = Math.Round(createMs, 1),
                ["snapshotBytes"] = snapshotBytes,
                ["snapshotBytesPer1000Tokens"] = Math.Round(bytesPer1000),
                ["cachedTtftMs"] = Array(cachedMs),
                ["inlineTtftMs"] = Array(inlineMs),
                ["afterRestartTtftMs"] = Array(restartMs),
                ["afterRestartInlineTtftMs"] = Array(restartInlineMs),
                ["ratio"] = Math.Round(ratio, 4),
                ["target"] = Target,
                ["pass"] = ratio <= Target,
                ["afterRestartRatio"] = Math.Round(restartRatio, 4),
                ["afterRestartTarget"] = RestartTarget,
                ["afterRestartPass"] = restartRatio <= RestartTarget,
            };
        }
        finally
        {
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>~2,000 tokens of story text, sized with the server's own tokenizer.</summary>
    private static async Task<string> DocumentAsync(BenchServer server, CancellationToken cancellationToken)
    {
        var words = PrefixTokens / 2;
        var counted = await server.CountTokensAsync(Prompts.Sentences(words, 7000), cancellationToken);
        words = Math.Max(1, (int)(words * (double)PrefixTokens / Math.Max(1, counted)));
        return Prompts.Sentences(words, 7000);
    }

    private static async Task<double> TtftAsync(BenchServer server, JsonObject request, CancellationToken cancellationToken)
    {
        await server.ReleaseIdlePrefixesAsync();
        return (await server.StreamAsync(request, cancellationToken)).TtftMs;
    }

    private static JsonObject User(string text) => new() { ["role"] = "user", ["parts"] = new JsonArray(new JsonObject { ["text"] = text }) };

    private static JsonObject Config() => new() { ["maxOutputTokens"] = AnswerTokens, ["temperature"] = 1.0, ["seed"] = 42 };

    private static JsonObject Cached(string name) => new()
    {
        ["cachedContent"] = name,
        ["contents"] = new JsonArray(User("What happened next?")),
        ["generationConfig"] = Config(),
    };

    private static JsonObject Inline(string document) => new()
    {
        ["contents"] = new JsonArray(User(document), User("What happened next?")),
        ["generationConfig"] = Config(),
    };

    private static JsonArray Array(List<double> values) => new(values.Select(v => (JsonNode?)Math.Round(v, 1)).ToArray());
}
