using System.Globalization;
using System.Text.Json.Nodes;

namespace Castor.Bench;

/// <summary>
/// (f) Idle prefixes: one stream through HTTP on a server with <c>--parallel</c> sequences, 7 (parallel − 1) of them
/// idle but holding ~<c>--prefix-tokens</c>-token prompts kept for reuse, against the same stream on a server with
/// one sequence. Both servers run side by side in this process and the runs alternate, so a neighbour's burst lands
/// on both. The measured request repeats one prompt and seed, so it reuses its own slot and never evicts an idle
/// prefix. Target: ≥ 0.95.
/// </summary>
public sealed class IdlePrefixBench(BenchOptions options, string modelPath, Action<string> log)
{
    public const double Target = 0.95;

    public async Task<JsonObject> RunAsync(CancellationToken cancellationToken)
    {
        var runs = Math.Max(1, options.Runs);
        var parallel = Math.Max(2, options.Parallel);
        var context = Math.Max(options.ContextSize, options.PrefixTokens + options.Tokens + 64);
        log($"(f) Idle prefixes: one stream of {options.Tokens} tokens at parallel {parallel} with {parallel - 1} idle ~{options.PrefixTokens}-token prefixes vs parallel 1, {runs} run(s)");

        await using var wide = await BenchServer.StartAsync(modelPath, options.Threads, parallel, context, options.Verbose, cancellationToken);
        await using var single = await BenchServer.StartAsync(modelPath, options.Threads, 1, context, options.Verbose, cancellationToken);

        // Distinct openers, so every prefix lands in a slot of its own (no prefix is shared with another).
        var residentTokens = 0;
        for (var i = 0; i < parallel - 1; i++)
        {
            var opener = Prompts.Openers[i % Prompts.Openers.Length] + $" {i}. ";
            var words = options.PrefixTokens / 2;
            var text = opener + Prompts.Sentences(words, 2000 + i);
            // Sized with the server's own tokenizer: one proportional correction is close enough for "about".
            var counted = await wide.CountTokensAsync(text, cancellationToken);
            words = Math.Max(1, (int)(words * (double)options.PrefixTokens / Math.Max(1, counted)));
            text = opener + Prompts.Sentences(words, 2000 + i);
            var filled = await wide.StreamAsync(Request(text, 1), cancellationToken);
            residentTokens += filled.PromptTokens;
        }
        log($"  {parallel - 1} idle slots hold {residentTokens:N0} prompt tokens");

        var story = Prompts.Story(0);
        // Warm-up: the measured prompt becomes resident in a free slot of each server.
        await wide.StreamAsync(Request(story, options.Tokens), cancellationToken);
        await single.StreamAsync(Request(story, options.Tokens), cancellationToken);

        var wideRates = new List<double>();
        var singleRates = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (run % 2 == 0)
            {
                wideRates.Add((await wide.StreamAsync(Request(story, options.Tokens), cancellationToken)).DecodeTokensPerSecond);
                singleRates.Add((await single.StreamAsync(Request(story, options.Tokens), cancellationToken)).DecodeTokensPerSecond);
            }
            else
            {
                singleRates.Add((await single.StreamAsync(Request(story, options.Tokens), cancellationToken)).DecodeTokensPerSecond);
                wideRates.Add((await wide.StreamAsync(Request(story, options.Tokens), cancellationToken)).DecodeTokensPerSecond);
            }
            log(string.Create(CultureInfo.InvariantCulture, $"  run {run + 1}/{runs}: parallel {parallel} {wideRates[^1]:0.0} tok/s, parallel 1 {singleRates[^1]:0.0} tok/s"));
        }
        var ratio = Stats.Median(wideRates) / Stats.Median(singleRates);
        log(string.Create(CultureInfo.InvariantCulture,
            $"  median: parallel {parallel} {Stats.Median(wideRates):0.0} tok/s, parallel 1 {Stats.Median(singleRates):0.0} tok/s, ratio {ratio:0.000} (target ≥ {Target:0.00}: {(ratio >= Target ? "PASS" : "FAIL")})"));
        return new JsonObject
        {
            ["parallel"] = parallel,
            ["idlePrefixTokens"] = residentTokens,
            ["tokens"] = options.Tokens,
            ["parallelNTokensPerSecond"] = new JsonArray(wideRates.Select(v => (JsonNode?)Math.Round(v, 1)).ToArray()),
            ["parallel1TokensPerSecond"] = new JsonArray(singleRates.Select(v => (JsonNode?)Math.Round(v, 1)).ToArray()),
            ["ratio"] = Math.Round(ratio, 4),
            ["target"] = Target,
            ["pass"] = ratio >= Target,
        };
    }

    private static JsonObject Request(string text, int tokens) => new()
    {
        ["contents"] = new JsonArray(new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = text }) }),
        ["generationConfig"] = new JsonObject { ["maxOutputTokens"] = tokens, ["temperature"] = 1.0, ["topP"] = 0.95, ["topK"] = 64, ["seed"] = 42 },
    };
}
