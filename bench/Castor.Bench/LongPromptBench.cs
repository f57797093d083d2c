using System.Globalization;
using System.Text.Json.Nodes;
using Castor.Engine.Models;

namespace Castor.Bench;

/// <summary>
/// (e) Long prompts: time to first token through HTTP against the bare loop's prefill + first sample, with the same
/// settings (Castor's default flash attention on both sides), for each length in <c>--long-prompts</c>; then the bare
/// prefill rate for each flash-attention setting (off, on, llama.cpp's auto) on the same prompts, interleaved.
/// Every run gets a prompt with its own first word, so the server's prefix reuse cannot shorten a prefill.
/// </summary>
public sealed class LongPromptBench(BenchOptions options, string modelPath, Action<string> log)
{
    private static readonly Sampling Sampling = new(1.0f, 0.95f, 64, 42);

    public async Task<JsonObject> RunAsync(CancellationToken cancellationToken)
    {
        var sizes = options.LongPrompts.Order().ToList();
        var context = sizes[^1] + 64;
        var runs = Math.Max(1, options.Runs);
        var loadBefore = LoadAverage();
        log($"(e) Long prompts {string.Join(", ", sizes)} tokens, {runs} run(s) each, window {context}");

        // Prompt texts sized with the model's own tokenizer; the same text goes to both sides.
        var texts = new Dictionary<(int Size, int Run), string>();
        var flashRows = new JsonArray();
        var ttftRows = new JsonArray();

        var defaultMode = "";
        await using (var server = await BenchServer.StartAsync(modelPath, options.Threads, 1, context, options.Verbose, cancellationToken))
        {
            using var bare = new BareEngine(modelPath, options, context);
            defaultMode = FlashAttention.Describe(FlashAttention.Resolve(null, gpuLayers: 0, FlashAttention.HeadSize(bare.Weights.Metadata)));
            foreach (var size in sizes)
                for (var run = 0; run < runs; run++)
                    texts[(size, run)] = SizedText(bare, size, run);

            foreach (var size in sizes)
            {
                var http = new List<double>();
                var bareMs = new List<double>();
                var promptTokens = 0;
                for (var run = 0; run < runs; run++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var text = texts[(size, run)];
                    var tokens = bare.Tokenize(text);
                    promptTokens = tokens.Length;
                    // Alternate which side goes first, so a neighbour's burst does not always land on one of them.
                    if (run % 2 == 0)
                    {
                        bareMs.Add(bare.Run(tokens, 1, Sampling).PrefillSeconds * 1000);
                        http.Add(await HttpFirstTokenMs(server, text, cancellationToken));
                    }
                    else
                    {
                        http.Add(await HttpFirstTokenMs(server, text, cancellationToken));
                        bareMs.Add(bare.Run(tokens, 1, Sampling).PrefillSeconds * 1000);
                    }
                }
                var ratio = Stats.Median(bareMs) / Stats.Median(http);
                log(string.Create(CultureInfo.InvariantCulture,
                    $"  {promptTokens,6} tokens: first token HTTP {Stats.Median(http):0} ms, bare {Stats.Median(bareMs):0} ms, bare/HTTP {ratio:0.000} (flash attention {defaultMode})"));
                ttftRows.Add(new JsonObject
                {
                    ["promptTokens"] = promptTokens,
                    ["httpFirstTokenMs"] = new JsonArray(http.Select(v => (JsonNode?)Math.Round(v, 1)).ToArray()),
                    ["bareFirstTokenMs"] = new JsonArray(bareMs.Select(v => (JsonNode?)Math.Round(v, 1)).ToArray()),
                    ["bareToHttpRatio"] = Math.Round(ratio, 4),
                    ["target"] = 0.95,
                });
            }
        }

        // The three settings side by side, interleaved run by run with a rotating order, so the machine's load swings
        // (builds next door) land on all of them alike instead of on whichever was measured first.
        var modes = new[] { FlashAttentionMode.Off, FlashAttentionMode.On, FlashAttentionMode.Auto };
        var engines = modes.Select(mode => new BareEngine(modelPath, options, context, flashAttention: mode)).ToArray();
        try
        {
            var rates = modes.Select(_ => sizes.ToDictionary(size => size, _ => new List<double>())).ToArray();
            foreach (var size in sizes)
                for (var run = 0; run < runs; run++)
                    for (var k = 0; k < modes.Length; k++)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var m = (k + run + sizes.IndexOf(size)) % modes.Length;
                        var tokens = engines[m].Tokenize(texts[(size, run)]);
                        rates[m][size].Add(tokens.Length / engines[m].Run(tokens, 1, Sampling).PrefillSeconds);
                    }
            for (var m = 0; m < modes.Length; m++)
            {
                var name = modes[m].ToString().ToLowerInvariant();
                var row = new JsonObject { ["flashAttention"] = name };
                var line = $"  flash attention {name,-4}: prefill";
                foreach (var size in sizes)
                {
                    var key = size.ToString(CultureInfo.InvariantCulture);
                    row[key] = Math.Round(Stats.Median(rates[m][size]), 1);
                    row[key + "Runs"] = new JsonArray(rates[m][size].Select(v => (JsonNode?)Math.Round(v, 1)).ToArray());
                    line += string.Create(CultureInfo.InvariantCulture, $"  {size}: {Stats.Median(rates[m][size]):0} tok/s");
                }
                log(line);
                flashRows.Add(row);
            }
        }
        finally
        {
            foreach (var engine in engines)
                engine.Dispose();
        }

        return new JsonObject
        {
            ["defaultFlashAttention"] = defaultMode,
            ["runs"] = runs,
            ["firstToken"] = ttftRows,
            ["prefillTokensPerSecond"] = flashRows,
            ["loadBefore"] = loadBefore,
            ["loadAfter"] = LoadAverage(),
        };
    }

    /// <summary>Story text of about <paramref name="size"/> tokens (BOS included), opening with a word of its own.</summary>
    private static string SizedText(BareEngine bare, int size, int run)
    {
        var opener = Prompts.Openers[run % Prompts.Openers.Length];
        var words = size;
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var text = opener + " " + Prompts.Sentences(words, 1000 + run);
            var count = bare.Tokenize(text).Length;
            if (Math.Abs(count - size) <= size / 100 + 2) return text;
            words = Math.Max(1, (int)(words * (double)size / count));
        }
        return opener + " " + Prompts.Sentences(words, 1000 + run);
    }

    /// <summary>Time from sending to the final event of a one-token stream: its first (and only) token.</summary>
    private static async Task<double> HttpFirstTokenMs(BenchServer server, string text, CancellationToken cancellationToken)
    {
        var request = new JsonObject
        {
            ["contents"] = new JsonArray(new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = text }) }),
            ["generationConfig"] = new JsonObject { ["maxOutputTokens"] = 1, ["temperature"] = 1.0, ["topP"] = 0.95, ["topK"] = 64, ["seed"] = 42 },
        };
        var result = await server.StreamAsync(request, cancellationToken);
        return result.EndSeconds * 1000;
    }

    private static double LoadAverage()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return double.NaN;
        }
    }
}
