using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Castor.EmbeddingBench;

// Embedding throughput through the real HTTP server: N short texts embedded one request each (sequentially, then
// from several concurrent clients), versus one batchEmbedContents call holding all N. Prints texts/s (wall time) and
// CPU milliseconds per text (the whole process), medians over --rounds rounds after a warm-up; --json writes them.

var texts = 256;
var rounds = 5;
var threads = 0;
var concurrency = 8;
string? gguf = null, jsonPath = null;
var verbose = false;
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--texts": texts = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--concurrency": concurrency = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--gguf": gguf = Path.GetFullPath(Next()); break;
        case "--json": jsonPath = Path.GetFullPath(Next()); break;
        case "--verbose": verbose = true; break;
        case "-h" or "--help":
            Console.WriteLine("castor-embedding-bench [--texts 256] [--rounds 5] [--threads N] [--concurrency 8] [--gguf model.gguf] [--json out.json] [--verbose]");
            return 0;
        default:
            Console.Error.WriteLine($"Unknown argument {args[i]}; see --help.");
            return 2;
    }
}

var corpus = Texts.Make(texts);
await using var server = await BenchServer.StartAsync(threads, Math.Max(texts, 100), gguf, verbose);
var models = new List<string> { "text-embedding-minilm" };
if (gguf is not null) models.Add("gguf-embedding");

var report = new JsonObject
{
    ["date"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
    ["machine"] = $"{Environment.ProcessorCount} logical CPUs, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
    ["texts"] = texts,
    ["rounds"] = rounds,
    ["concurrency"] = concurrency,
    ["models"] = new JsonArray(),
};
Console.WriteLine($"Embedding {texts} short texts, median of {rounds} rounds, {Environment.ProcessorCount} logical CPUs (threads: {(threads > 0 ? threads : Environment.ProcessorCount)}).");
Console.WriteLine();
Console.WriteLine($"{"model",-24} {"mode",-30} {"texts/s",10} {"CPU ms/text",12} {"runs/round",11}");

foreach (var model in models)
{
    // Warm-up: first runs allocate ONNX/llama buffers and JIT the request path.
    for (var i = 0; i < 8; i++) await server.EmbedOneAsync(model, corpus[i]);
    await server.EmbedBatchAsync(model, corpus);

    var single = new List<double>();
    var concurrent = new List<double>();
    var batch = new List<double>();
    var (singleCpu, concurrentCpu, batchCpu) = (new List<double>(), new List<double>(), new List<double>());
    long singleRuns = 0, concurrentRuns = 0, batchRuns = 0;
    for (var round = 0; round < rounds; round++)
    {
        // Wall time says what a client sees; the process's CPU time per text (server and in-process client together)
        // says what each mode costs, and barely moves when other programs compete for the cores.
        var runs = server.Runs(model);
        var (start, cpu) = (Stopwatch.GetTimestamp(), CpuSeconds());
        foreach (var text in corpus) await server.EmbedOneAsync(model, text);
        single.Add(texts / BenchServer.Seconds(start));
        singleCpu.Add((CpuSeconds() - cpu) * 1000 / texts);
        singleRuns = server.Runs(model) - runs;

        runs = server.Runs(model);
        (start, cpu) = (Stopwatch.GetTimestamp(), CpuSeconds());
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < corpus.Length) await server.EmbedOneAsync(model, corpus[i]);
        }));
        concurrent.Add(texts / BenchServer.Seconds(start));
        concurrentCpu.Add((CpuSeconds() - cpu) * 1000 / texts);
        concurrentRuns = server.Runs(model) - runs;

        runs = server.Runs(model);
        (start, cpu) = (Stopwatch.GetTimestamp(), CpuSeconds());
        await server.EmbedBatchAsync(model, corpus);
        batch.Add(texts / BenchServer.Seconds(start));
        batchCpu.Add((CpuSeconds() - cpu) * 1000 / texts);
        batchRuns = server.Runs(model) - runs;
    }

    var (s, c, b) = (Median(single), Median(concurrent), Median(batch));
    var (sc, cc, bc) = (Median(singleCpu), Median(concurrentCpu), Median(batchCpu));
    Console.WriteLine($"{model,-24} {"one request each, in turn",-30} {s,10:0} {sc,12:0.00} {singleRuns,11}");
    Console.WriteLine($"{"",-24} {$"one request each, {concurrency} clients",-30} {c,10:0} {cc,12:0.00} {concurrentRuns,11}");
    Console.WriteLine($"{"",-24} {"one batchEmbedContents call",-30} {b,10:0} {bc,12:0.00} {batchRuns,11}");
    Console.WriteLine($"{"",-24} {"batch ÷ one-by-one",-30} {b / s,9:0.0}× {sc / bc,11:0.0}×");
    ((JsonArray)report["models"]!).Add(new JsonObject
    {
        ["model"] = model,
        ["info"] = server.Model(model).Info.Description,
        ["singleTextsPerSecond"] = Math.Round(s, 1),
        ["concurrentTextsPerSecond"] = Math.Round(c, 1),
        ["batchTextsPerSecond"] = Math.Round(b, 1),
        ["batchSpeedup"] = Math.Round(b / s, 2),
        ["cpuMsPerText"] = new JsonObject { ["single"] = Math.Round(sc, 3), ["concurrent"] = Math.Round(cc, 3), ["batch"] = Math.Round(bc, 3) },
        ["batchCpuEfficiency"] = Math.Round(sc / bc, 2),
        ["runsPerRound"] = new JsonObject { ["single"] = singleRuns, ["concurrent"] = concurrentRuns, ["batch"] = batchRuns },
        ["singleRounds"] = new JsonArray(single.Select(x => (JsonNode)Math.Round(x, 1)).ToArray()),
        ["concurrentRounds"] = new JsonArray(concurrent.Select(x => (JsonNode)Math.Round(x, 1)).ToArray()),
        ["batchRounds"] = new JsonArray(batch.Select(x => (JsonNode)Math.Round(x, 1)).ToArray()),
    });
}

if (jsonPath is not null)
{
    Directory.CreateDirectory(Path.GetDirectoryName(jsonPath)!);
    await File.WriteAllTextAsync(jsonPath, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine($"\nWrote {jsonPath}");
}
return 0;

static double CpuSeconds() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}
