using System.Globalization;
using System.Text.Json.Nodes;
using Castor.Bench.Gguf;
using SkiaSharp;

namespace Castor.Bench;

/// <summary>
/// (g) Images: the model paired with a synthetic <c>mlp</c> vision projector (random weights, a 224-pixel ViT of
/// 14-pixel patches: 256 tokens an image), through HTTP.
/// <list type="number">
/// <item>Tokens per image (countTokens' IMAGE) and encode time: time to first token with a new image, less the same
/// request's without it.</item>
/// <item>A text stream's decode rate while three clients keep sending new images, over its rate alone (runs alternate).
/// Target ≥ 0.8.</item>
/// <item>A repeated question about one image: time to first token of a follow-up (the image and the first question
/// resident) over the first question's. Target ≤ 0.1.</item>
/// </list>
/// </summary>
public sealed class MediaBench(BenchOptions options, string modelPath, string cacheFolder, Action<string> log)
{
    public const double StreamTarget = 0.8;
    public const double RepeatTarget = 0.1;
    private static readonly SyntheticProjector.VisionShape Shape = new(ImageSize: 224, PatchSize: 14, Width: 256, FeedForward: 1024, Blocks: 4);

    public async Task<JsonObject> RunAsync(CancellationToken cancellationToken)
    {
        var runs = Math.Max(1, options.Runs);
        var projector = EnsureProjector();
        var parallel = Math.Max(4, Math.Min(options.Parallel, 8));
        log($"(g) Images: {Path.GetFileName(projector)} beside {Path.GetFileName(modelPath)}, parallel {parallel}, {runs} run(s)");
        await using var server = await BenchServer.StartAsync(modelPath, options.Threads, parallel, Math.Max(options.ContextSize, 1024), options.Verbose,
            cancellationToken, projector: projector);
        var image = 0;

        // 1. Tokens per image and encode time.
        var count = await server.CountTokensAsync(Request("What is in this picture?", Png(image++), 1), cancellationToken);
        var imageTokens = count["promptTokensDetails"]!.AsArray()
            .FirstOrDefault(d => d!["modality"]!.GetValue<string>() == "IMAGE")?["tokenCount"]!.GetValue<int>() ?? 0;
        var encodeMs = new List<double>();
        for (var run = 0; run < runs + 1; run++)
        {
            var question = $"Picture {run}: what is in it?";
            var withImage = await server.StreamAsync(Request(question, Png(image++), 1), cancellationToken);
            var without = await server.StreamAsync(Request(question + " ", null, 1), cancellationToken);
            if (run > 0) encodeMs.Add(withImage.TtftMs - without.TtftMs);
        }
        log(string.Create(CultureInfo.InvariantCulture, $"  {imageTokens} tokens an image; encode ≈ {Stats.Median(encodeMs):0.0} ms (median TTFT difference)"));

        // 2. A text stream beside image requests.
        var story = Request(Prompts.Story(0), null, options.Tokens);
        await server.StreamAsync(story, cancellationToken);
        var alone = new List<double>();
        var beside = new List<double>();
        var imagesSent = 0;
        var imagesDone = 0;
        for (var run = 0; run < runs; run++)
        {
            alone.Add((await server.StreamAsync(story, cancellationToken)).DecodeTokensPerSecond);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var senders = Enumerable.Range(0, Math.Min(3, parallel - 1)).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var png = Png(Interlocked.Increment(ref image));
                    try
                    {
                        Interlocked.Increment(ref imagesSent);
                        await server.StreamAsync(Request("Describe this picture.", png, 1), stop.Token);
                        Interlocked.Increment(ref imagesDone);
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                    }
                }
            }, CancellationToken.None)).ToList();
            // Let the senders reach the scheduler before the measured stream starts.
            await Task.Delay(200, cancellationToken);
            beside.Add((await server.StreamAsync(story, cancellationToken)).DecodeTokensPerSecond);
            await stop.CancelAsync();
            await Task.WhenAll(senders);
            log(string.Create(CultureInfo.InvariantCulture, $"  run {run + 1}/{runs}: alone {alone[^1]:0.0} tok/s, beside images {beside[^1]:0.0} tok/s"));
        }
        // Runs alternate, so each pair shares the machine's load of the moment: the median of the paired ratios.
        var streamRatio = Stats.Median(beside.Select((b, i) => b / alone[i]).ToList());
        log(string.Create(CultureInfo.InvariantCulture,
            $"  text stream beside images ÷ alone: {streamRatio:0.000} (median of paired ratios; {imagesSent} image requests sent, {imagesDone} answered meanwhile; target ≥ {StreamTarget:0.0}: {(streamRatio >= StreamTarget ? "PASS" : "FAIL")})"));

        // 3. A repeated question about one image.
        var firstTtft = new List<double>();
        var repeatTtft = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            var png = Png(image++);
            var first = await server.StreamAsync(Request("Look at this picture. What animal is it?", png, 1), cancellationToken);
            var again = await server.StreamAsync(Request("Look at this picture. What animal is it?", png, 1, follow: "And what colour is it?"), cancellationToken);
            firstTtft.Add(first.TtftMs);
            repeatTtft.Add(again.TtftMs);
        }
        var repeatRatio = Stats.Median(repeatTtft) / Stats.Median(firstTtft);
        log(string.Create(CultureInfo.InvariantCulture,
            $"  repeated question: TTFT {Stats.Median(repeatTtft):0.0} ms vs first {Stats.Median(firstTtft):0.0} ms, ratio {repeatRatio:0.000} (target ≤ {RepeatTarget:0.0}: {(repeatRatio <= RepeatTarget ? "PASS" : "FAIL")})"));

        return new JsonObject
        {
            ["projector"] = Path.GetFileName(projector),
            ["imageTokens"] = imageTokens,
            ["encodeMs"] = Samples(encodeMs),
            ["encodeMedianMs"] = Math.Round(Stats.Median(encodeMs), 1),
            ["aloneTokensPerSecond"] = Samples(alone),
            ["besideImagesTokensPerSecond"] = Samples(beside),
            ["imagesSent"] = imagesSent,
            ["imagesAnswered"] = imagesDone,
            ["streamRatio"] = Math.Round(streamRatio, 4),
            ["streamTarget"] = StreamTarget,
            ["streamPass"] = streamRatio >= StreamTarget,
            ["firstQuestionTtftMs"] = Samples(firstTtft),
            ["repeatQuestionTtftMs"] = Samples(repeatTtft),
            ["repeatRatio"] = Math.Round(repeatRatio, 4),
            ["repeatTarget"] = RepeatTarget,
            ["repeatPass"] = repeatRatio <= RepeatTarget,
        };
    }

    private static JsonArray Samples(List<double> values) => new(values.Select(v => (JsonNode?)Math.Round(v, 1)).ToArray());

    /// <summary>The bench's projector for this model's embedding width, written once into the cache folder.</summary>
    private string EnsureProjector()
    {
        var header = GgufReader.Read(modelPath);
        var arch = header.GetString("general.architecture") ?? "llama";
        var width = (int)(header.Get($"{arch}.embedding_length")?.AsInteger() ?? throw new BenchException($"{modelPath} has no {arch}.embedding_length."));
        Directory.CreateDirectory(cacheFolder);
        var path = Path.Combine(cacheFolder, $"castor-bench-mmproj-mlp-{Shape.ImageSize}px-{width}.gguf");
        if (!File.Exists(path)) SyntheticProjector.Write(path, "mlp", width, seed: 1, Shape);
        return path;
    }

    /// <summary>A 320×240 PNG of noise: every seed a different picture.</summary>
    private static byte[] Png(int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[320 * 240 * 4];
        random.NextBytes(pixels);
        for (var i = 3; i < pixels.Length; i += 4) pixels[i] = 255;
        using var bitmap = new SKBitmap(new SKImageInfo(320, 240, SKColorType.Rgba8888, SKAlphaType.Opaque));
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private JsonObject Request(string text, byte[]? png, int tokens, string? follow = null)
    {
        var parts = new JsonArray();
        if (png is not null)
            parts.Add(new JsonObject { ["inlineData"] = new JsonObject { ["mimeType"] = "image/png", ["data"] = Convert.ToBase64String(png) } });
        parts.Add(new JsonObject { ["text"] = text });
        if (follow is not null) parts.Add(new JsonObject { ["text"] = follow });
        return new JsonObject
        {
            ["contents"] = new JsonArray(new JsonObject { ["role"] = "user", ["parts"] = parts }),
            ["generationConfig"] = new JsonObject { ["maxOutputTokens"] = tokens, ["temperature"] = 1.0, ["topP"] = 0.95, ["topK"] = 64, ["seed"] = options.Seed },
        };
    }
}
