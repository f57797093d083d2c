using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Castor.Bench;

/// <summary>Runs the three measurements in order, printing progress, and hands the results to <see cref="Report"/>.</summary>
public sealed class Bench(BenchOptions options, string benchFolder)
{
    private const float Temperature = 1.0f;
    private const float TopP = 0.95f;
    private const int TopK = 64;
    private const int WarmupTokens = 16;

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private string _modelPath = "";
    private int _prompts;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var report = new Report(options) { LoadAtStart = LoadAverage() };
        Log($"Castor benchmark: {Environment.ProcessorCount} logical processors, {options.DecodeThreads} decode threads ({options.BatchThreads} for prompts), .NET {Environment.Version}, load average {report.LoadAtStart:0.00}");
        if (report.LoadAtStart > Environment.ProcessorCount * 0.25)
            Log("  warning: other processes are using the CPU; the figures will be noisy. Run on a quiet machine for numbers you compare.");

        var modelPath = _modelPath = ResolveModel();
        var loading = Stopwatch.StartNew();
        using var bare = new BareEngine(modelPath, options, options.ContextSize);
        Log($"Loaded {Path.GetFileName(modelPath)} in {loading.Elapsed.TotalSeconds:0.0} s; checking it decodes …");
        var check = bare.Check("Once upon a time, there was a little girl named Lily.", 32, expectTextOnly: options.Model is null);
        var model = new ModelInfo(modelPath, DescribeModel(modelPath), options.Model is null, check.Parameters, check.Bytes, check.Vocabulary, check.Sample);
        report.Model = model;
        Log($"Model {Path.GetFileName(modelPath)}: {check.Parameters / 1e6:0.0} M parameters, {check.Bytes / (1024.0 * 1024):0.0} MiB, vocabulary {check.Vocabulary}; " +
            $"check passed ({check.TokensChecked} tokens, {check.DistinctTokens} distinct, finite logits)");
        Log($"  sample: {Shorten(check.Sample, 100)}");

        if (options.Includes('a'))
            report.SingleStream = await SingleStreamAsync(bare, cancellationToken);

        BenchServer? server = null;
        try
        {
            if (options.Includes('b') || options.Includes('c'))
            {
                Log($"Starting a server with Parallel = {options.Parallel} …");
                server = await BenchServer.StartAsync(modelPath, options.Threads, options.Parallel, options.ContextSize, options.Verbose, cancellationToken);
                ReclaimNativeLog();
            }
            if (options.Includes('b'))
                report.Concurrency = await ConcurrencyAsync(server!, cancellationToken);
            if (options.Includes('c'))
                report.Ttft = await TtftAsync(server!, bare, cancellationToken);
        }
        finally
        {
            if (server is not null) await server.DisposeAsync();
            ReclaimNativeLog();
        }

        if (options.Includes('e'))
        {
            report.LongPrompts = await new LongPromptBench(options, modelPath, Log).RunAsync(cancellationToken);
            ReclaimNativeLog();
        }

        if (options.Includes('f'))
        {
            report.IdlePrefixes = await new IdlePrefixBench(options, modelPath, Log).RunAsync(cancellationToken);
            ReclaimNativeLog();
        }

        if (options.Includes('g'))
        {
            report.Images = await new MediaBench(options, modelPath, options.Cache ?? Path.Combine(benchFolder, ".cache"), Log).RunAsync(cancellationToken);
            ReclaimNativeLog();
        }

        if (options.Includes('h'))
        {
            report.CachedContents = await new CachedContentBench(options, modelPath, Log).RunAsync(cancellationToken);
            ReclaimNativeLog();
        }

        if (options.Includes('i'))
        {
            report.BatchJobs = await new BatchJobBench(options, modelPath, Log).RunAsync(cancellationToken);
            ReclaimNativeLog();
        }

        if (options.Includes('j'))
        {
            report.Live = await new LiveBench(options, modelPath, Log).RunAsync(cancellationToken);
            ReclaimNativeLog();
        }

        if (options.Includes('k'))
        {
            report.Quotas = await new QuotaBench(options, modelPath, Log).RunAsync(cancellationToken);
            ReclaimNativeLog();
        }

        GrammarCost? grammar = null;
        if (options.Includes('d'))
            grammar = await GrammarCostAsync(bare, cancellationToken);
        if (grammar is not null)
            report.GrammarCost = grammar.ToJson();

        report.ElapsedSeconds = _clock.Elapsed.TotalSeconds;
        report.LoadAtEnd = LoadAverage();
        Console.WriteLine();
        report.Print(Console.Out);
        var output = options.Output ?? Path.Combine(benchFolder, "results", "latest.json");
        var written = report.Write(output);
        Console.WriteLine();
        Console.WriteLine($"JSON summary: {string.Join(", ", written)}");
        if (grammar is not null)
        {
            Console.WriteLine();
            Console.WriteLine($"(d) Decode with a JSON-schema grammar vs without: same prompt ({grammar.PromptTokens} tokens), same length ({grammar.Tokens} tokens), tokens/s after the first token");
            var bareCost = grammar.Bare;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    bare engine, lockstep ({bareCost.Steps} steps): plain {bareCost.Plain:0.0}   grammar {bareCost.Constrained:0.0} tok/s   cost {bareCost.Cost * 100:0.0} %   " +
                $"target ≤ {GrammarCost.Target * 100:0} %: {(bareCost.Cost <= GrammarCost.Target ? "PASS" : "FAIL")}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"        decode (median) {bareCost.PlainDecodeMs:0.00} / {bareCost.GrammarDecodeMs:0.00} ms, sampling (mean) {bareCost.PlainSampleMs:0.000} / {bareCost.GrammarSampleMs:0.000} ms per token; " +
                $"wall-clock means, disturbances included: {bareCost.PlainMean:0.0} / {bareCost.ConstrainedMean:0.0} tok/s"));
            var plainHttp = Stats.Median(grammar.Http.Select(p => p.Plain).ToList());
            var constrainedHttp = Stats.Median(grammar.Http.Select(p => p.Constrained).ToList());
            var httpCost = GrammarCost.Cost(grammar.Http);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    HTTP stream, alternating ({grammar.Http.Count} pairs): plain {plainHttp:0.0}   grammar {constrainedHttp:0.0} tok/s (medians)   cost (median of paired ratios) {httpCost * 100:0.0} %   " +
                $"target ≤ {GrammarCost.Target * 100:0} %: {(httpCost <= GrammarCost.Target ? "PASS" : "FAIL")}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"        from each stream's median event interval: plain {Stats.Median(grammar.HttpRobust.Select(p => p.Plain).ToList()):0.0}   grammar {Stats.Median(grammar.HttpRobust.Select(p => p.Constrained).ToList()):0.0} tok/s   " +
                $"cost {GrammarCost.Cost(grammar.HttpRobust) * 100:0.0} %"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    load average {grammar.LoadBefore:0.00} before, {grammar.LoadAfter:0.00} after"));
        }
        return 0;
    }

    /// <summary>(d) Paired runs: one plain and one constrained run each, adjacent in time.</summary>
    private sealed record GrammarPair(double Plain, double Constrained)
    {
        public double Ratio => Constrained / Plain;
    }

    private sealed record GrammarCost(int PromptTokens, int Tokens, BareGrammarCost Bare, IReadOnlyList<GrammarPair> Http, IReadOnlyList<GrammarPair> HttpRobust, double LoadBefore, double LoadAfter)
    {
        public static double Cost(IReadOnlyList<GrammarPair> pairs) => 1 - Stats.Median(pairs.Select(p => p.Ratio).ToList());
        public const double Target = 0.15;

        public JsonObject ToJson() => new()
        {
            ["promptTokens"] = PromptTokens,
            ["answerTokens"] = Tokens,
            ["target"] = Target,
            ["bare"] = new JsonObject
            {
                ["steps"] = Bare.Steps,
                ["plainTokensPerSecond"] = Math.Round(Bare.Plain, 2),
                ["grammarTokensPerSecond"] = Math.Round(Bare.Constrained, 2),
                ["plainDecodeMedianMs"] = Math.Round(Bare.PlainDecodeMs, 4),
                ["grammarDecodeMedianMs"] = Math.Round(Bare.GrammarDecodeMs, 4),
                ["plainSampleMeanMs"] = Math.Round(Bare.PlainSampleMs, 4),
                ["grammarSampleMeanMs"] = Math.Round(Bare.GrammarSampleMs, 4),
                ["cost"] = Math.Round(Bare.Cost, 4),
                ["pass"] = Bare.Cost <= Target,
            },
            ["http"] = new JsonObject
            {
                ["plainRuns"] = new JsonArray(Http.Select(p => (JsonNode?)Math.Round(p.Plain, 2)).ToArray()),
                ["grammarRuns"] = new JsonArray(Http.Select(p => (JsonNode?)Math.Round(p.Constrained, 2)).ToArray()),
                ["cost"] = Math.Round(Cost(Http), 4),
                ["pass"] = Cost(Http) <= Target,
                ["plainMedianIntervalRuns"] = new JsonArray(HttpRobust.Select(p => (JsonNode?)Math.Round(p.Plain, 2)).ToArray()),
                ["grammarMedianIntervalRuns"] = new JsonArray(HttpRobust.Select(p => (JsonNode?)Math.Round(p.Constrained, 2)).ToArray()),
                ["medianIntervalCost"] = Math.Round(Cost(HttpRobust), 4),
            },
            ["loadBefore"] = LoadBefore,
            ["loadAfter"] = LoadAfter,
        };
    }

    /// <summary>
    /// (d) on the bare engine, from every lockstep step (A = plain, B = grammar): a side's time per token is its median
    /// decode time (robust to the moments another process takes a core, which last far longer than a step) plus its
    /// mean sampling time (every refusal and full-vocabulary filter counted).
    /// </summary>
    private sealed class BareGrammarCost(IReadOnlyList<(double DecodeA, double SampleA, double DecodeB, double SampleB)> steps)
    {
        public int Steps => steps.Count;
        public double PlainDecodeMs => Stats.Median(steps.Select(s => s.DecodeA).ToList());
        public double GrammarDecodeMs => Stats.Median(steps.Select(s => s.DecodeB).ToList());
        public double PlainSampleMs => Stats.Mean(steps.Select(s => s.SampleA).ToList());
        public double GrammarSampleMs => Stats.Mean(steps.Select(s => s.SampleB).ToList());
        public double Plain => 1000 / (PlainDecodeMs + PlainSampleMs);
        public double Constrained => 1000 / (GrammarDecodeMs + GrammarSampleMs);
        /// <summary>Plain wall-clock means, disturbances included, for comparison.</summary>
        public double PlainMean => 1000 / Stats.Mean(steps.Select(s => s.DecodeA + s.SampleA).ToList());
        public double ConstrainedMean => 1000 / Stats.Mean(steps.Select(s => s.DecodeB + s.SampleB).ToList());
        public double Cost => 1 - Constrained / Plain;
    }

    /// <summary>
    /// (d) The price of constrained decoding: the same model decodes a JSON answer constrained by a schema (an array of
    /// objects with bounded strings, integers and enums) and, like for like, an unconstrained answer from the very same
    /// prompt (the plain request carries, as its system instruction, the instruction the server adds for the schema) and
    /// of the very same length (as many tokens as the grammar needed to complete its JSON). Only decoding after the first
    /// token is timed. Twice: on the bare engine with Castor's own <c>TokenSampler</c> (the grammar's cost and nothing
    /// else), and through the HTTP streaming API on a server with one sequence. Plain and constrained alternate, in
    /// alternating order; the cost is 1 − the median of the paired ratios.
    /// </summary>
    private async Task<GrammarCost> GrammarCostAsync(BareEngine bare, CancellationToken cancellationToken)
    {
        var loadBefore = LoadAverage();
        var runs = Math.Max(5, options.Runs);
        Log($"(d) grammar cost: {runs} paired runs on the bare engine, then {runs} through HTTP (Parallel = 1); load average {loadBefore:0.00}");
        var schema = JsonNode.Parse("""
            {"type":"array","minItems":8,"maxItems":8,"items":{"type":"object","required":["name","age","tags"],
              "properties":{"name":{"type":"string","maxLength":40},"age":{"type":"integer","minimum":0,"maximum":120},
                            "tags":{"type":"array","maxItems":3,"items":{"type":"string","enum":["a","b","c"]}}}}}
            """)!;
        // Word for word the instruction Castor's ResponseFormat adds to the system prompt for a responseJsonSchema.
        var instruction = "Answer with a single JSON value that follows this JSON schema, and nothing else:\n" + schema.ToJsonString();
        const string user = "Once upon a time";

        // Bare engine: Castor's sampler with and without the compiled grammar, in lockstep on two contexts.
        var grammar = new Castor.Engine.Grammars.GrammarConstraint(Castor.Engine.Grammars.JsonSchemaGrammar.Compile(schema, cancellationToken: CancellationToken.None));
        var model = bare.Weights.NativeHandle;
        var prompt = bare.Tokenize(instruction + "\n\n" + user);
        using var twin = new BareEngine(_modelPath, options, options.ContextSize);
        LockstepRun Lockstep(int run, int maxTokens)
        {
            var sampling = new Castor.Engine.Sampling.SamplingParameters(Temperature, TopP, TopK, (uint)(options.Seed + run));
            using var plain = Castor.Engine.Sampling.SamplerChain.Create(sampling, maxTokens, model);
            using var constrained = Castor.Engine.Sampling.SamplerChain.Create(sampling, maxTokens, model, grammar);
            var result = BareEngine.Lockstep(prompt, maxTokens, bare, plain, twin, constrained);
            if (run >= 0)
                Log($"    bare run {run + 1}: {result.Tokens} tokens each (prompt {prompt.Length}); decode {Stats.Median(result.Steps.Select(s => s.DecodeA).ToList()):0.00} / " +
                    $"{Stats.Median(result.Steps.Select(s => s.DecodeB).ToList()):0.00} ms, sampling {Stats.Mean(result.Steps.Select(s => s.SampleA).ToList()):0.000} / " +
                    $"{Stats.Mean(result.Steps.Select(s => s.SampleB).ToList()):0.000} ms per token (plain / grammar); grammar refused the chain's draw {constrained.Refusals} times, {constrained.FullFilters} of them filtered the whole vocabulary");
            return result;
        }
        Lockstep(-1, WarmupTokens);
        var bareSteps = new List<(double DecodeA, double SampleA, double DecodeB, double SampleB)>();
        for (var run = 0; run < runs; run++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            bareSteps.AddRange(Lockstep(run, 4000).Steps);
        }

        await using var server = await BenchServer.StartAsync(_modelPath, options.Threads, 1, options.ContextSize, options.Verbose, cancellationToken);
        ReclaimNativeLog();
        JsonObject Plain(int n) => Request(user, n, systemInstruction: instruction);
        JsonObject Constrained()
        {
            var request = Request(user, 4000);
            var config = (JsonObject)request["generationConfig"]!;
            config["responseMimeType"] = "application/json";
            config["responseJsonSchema"] = schema.DeepClone();
            return request;
        }

        // Warm-up, which also leaves the prompt in the server's cache, as it is for every measured request (the two
        // requests share it): a reused prefix gives slightly different logits than a full prefill, and so a different
        // answer. The constrained answer's length then sets the plain one's.
        await server.StreamAsync(Constrained(), cancellationToken);
        await server.StreamAsync(Plain(WarmupTokens), cancellationToken);
        var first = await server.StreamAsync(Constrained(), cancellationToken);
        var tokens = first.CandidatesTokens;
        var httpPairs = new List<GrammarPair>();
        var httpRobust = new List<GrammarPair>();
        for (var run = 0; run < runs; run++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            StreamResult p, c;
            if (run % 2 == 0)
            {
                p = await server.StreamAsync(Plain(tokens), cancellationToken);
                c = await server.StreamAsync(Constrained(), cancellationToken);
            }
            else
            {
                c = await server.StreamAsync(Constrained(), cancellationToken);
                p = await server.StreamAsync(Plain(tokens), cancellationToken);
            }
            if (p.PromptTokens != c.PromptTokens || p.CandidatesTokens != c.CandidatesTokens)
                throw new BenchException($"(d) HTTP: plain {p.PromptTokens}+{p.CandidatesTokens} tokens, constrained {c.PromptTokens}+{c.CandidatesTokens}; prompt and answer lengths must match.");
            httpPairs.Add(new GrammarPair(p.DecodeTokensPerSecond, c.DecodeTokensPerSecond));
            httpRobust.Add(new GrammarPair(1000 / p.MedianIntervalMs, 1000 / c.MedianIntervalMs));
            Log($"    HTTP run {run + 1}: plain {p.DecodeTokensPerSecond,6:0.0} tok/s   grammar {c.DecodeTokensPerSecond,6:0.0} tok/s   " +
                $"grammar/plain {c.DecodeTokensPerSecond / p.DecodeTokensPerSecond:0.000}; median event interval {p.MedianIntervalMs:0.00} / {c.MedianIntervalMs:0.00} ms   " +
                $"({c.CandidatesTokens} tokens each, prompt {c.PromptTokens}, {c.FinishReason})");
        }
        return new GrammarCost(first.PromptTokens, tokens, new BareGrammarCost(bareSteps), httpPairs, httpRobust, loadBefore, LoadAverage());
    }

    private string ResolveModel()
    {
        if (options.Model is { } given)
        {
            var full = Path.GetFullPath(given);
            if (!File.Exists(full)) throw new BenchException($"--model {given}: no such file.");
            return full;
        }
        var tokenizer = options.Tokenizer is { } t ? Path.GetFullPath(t) : DefaultTokenizer();
        if (!File.Exists(tokenizer))
            throw new BenchException($"The tokenizer source {tokenizer} is missing; pass --tokenizer FILE.gguf (or set CASTOR_TEST_MODELS to the folder holding stories260K.gguf).");
        var cache = options.Cache ?? Path.Combine(benchFolder, ".cache");
        return SyntheticModel.Ensure(ModelShape.Presets[options.Size], options.WeightType, tokenizer, cache, Log);
    }

    private string DefaultTokenizer()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("CASTOR_TEST_MODELS") is { Length: > 0 } folder)
            candidates.Add(Path.Combine(folder, "stories260K.gguf"));
        candidates.Add(Path.GetFullPath(Path.Combine(benchFolder, "..", "..", "shared", "models", "stories260K.gguf")));
        candidates.Add("/work/shared/models/stories260K.gguf");
        return candidates.FirstOrDefault(File.Exists) ?? candidates[0];
    }

    private string DescribeModel(string path)
    {
        if (options.Model is not null) return $"{Path.GetFileName(path)} (given)";
        var s = ModelShape.Presets[options.Size];
        return $"synthesised {s.Name}: llama, {s.Layers} layers, embedding {s.Embedding}, {s.Heads} heads ({s.KvHeads} KV), FFN {s.FeedForward}, {options.WeightType}";
    }

    private Sampling Sampling(int stream = 0) => new(Temperature, TopP, TopK, (uint)(options.Seed + stream));

    private JsonObject Request(string userText, int maxOutputTokens, int stream = 0, string? systemInstruction = null)
    {
        var request = new JsonObject
        {
            ["contents"] = new JsonArray(new JsonObject
            {
                ["role"] = "user",
                ["parts"] = new JsonArray(new JsonObject { ["text"] = userText }),
            }),
            ["generationConfig"] = new JsonObject
            {
                ["maxOutputTokens"] = maxOutputTokens,
                ["temperature"] = Temperature,
                ["topP"] = TopP,
                ["topK"] = TopK,
                ["seed"] = options.Seed + stream,
            },
        };
        if (systemInstruction is not null)
            request["systemInstruction"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = systemInstruction }) };
        return request;
    }

    /// <summary>(a) The bare loop and the HTTP API, alternating run by run on the same model and threads.</summary>
    private async Task<SingleStreamResult> SingleStreamAsync(BareEngine bare, CancellationToken cancellationToken)
    {
        Log($"(a) single stream: {options.Tokens} tokens, {options.Runs} runs each, server Parallel = 1");
        var bareRuns = new List<BareRun>();
        var httpRuns = new List<StreamResult>();
        var bareCpuPerToken = new List<double>();
        var httpCpuPerToken = new List<double>();
        var externalRuns = new List<ExternalStreamResult>();
        await using var server = await BenchServer.StartAsync(_modelPath, options.Threads, 1, options.ContextSize, options.Verbose, cancellationToken);
        ReclaimNativeLog();

        // Warm-up: JIT, connection, first-use allocations on both sides.
        var warmup = UniqueStory(0);
        bare.Run(bare.Tokenize(warmup), WarmupTokens, Sampling());
        await server.StreamAsync(Request(warmup, WarmupTokens), cancellationToken);

        for (var run = 0; run < options.Runs; run++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // A new prompt each run, so the server's prefix reuse cannot skip a prefill the bare loop has to do.
            var text = UniqueStory(0);
            var prompt = bare.Tokenize(text);
            BareRun b;
            StreamResult h;
            // Alternate which goes first so drift (thermal, page cache, neighbours) does not favour one side.
            // Process CPU time (all threads: llama.cpp's, the server's and the in-process client's) per generated token.
            TimeSpan bareCpu, httpCpu;
            if (run % 2 == 0)
            {
                var cpu = Environment.CpuUsage.TotalTime;
                b = bare.Run(prompt, options.Tokens, Sampling());
                bareCpu = Environment.CpuUsage.TotalTime - cpu;
                cpu = Environment.CpuUsage.TotalTime;
                h = await server.StreamAsync(Request(text, options.Tokens), cancellationToken);
                httpCpu = Environment.CpuUsage.TotalTime - cpu;
            }
            else
            {
                var cpu = Environment.CpuUsage.TotalTime;
                h = await server.StreamAsync(Request(text, options.Tokens), cancellationToken);
                httpCpu = Environment.CpuUsage.TotalTime - cpu;
                cpu = Environment.CpuUsage.TotalTime;
                b = bare.Run(prompt, options.Tokens, Sampling());
                bareCpu = Environment.CpuUsage.TotalTime - cpu;
            }
            // Third, the same prompt streamed to curl in its own process: this process's CPU is then the server's alone.
            if (await server.StreamWithCurlAsync(Request(text, options.Tokens), cancellationToken) is { } x)
            {
                externalRuns.Add(x);
                Log($"    run {run + 1}/{options.Runs}: curl (out of process) {x.EndToEndTokensPerSecond,7:0.0} tok/s end to end ({x.CandidatesTokens} tokens); " +
                    $"server CPU per token {x.ServerCpuMicrosPerToken:0} µs: engine threads {x.EngineCpuMicrosPerToken:0} µs, the rest {x.OtherCpuMicrosPerToken:0} µs");
            }
            bareRuns.Add(b);
            httpRuns.Add(h);
            bareCpuPerToken.Add(bareCpu.TotalMicroseconds / Math.Max(1, b.Tokens));
            httpCpuPerToken.Add(httpCpu.TotalMicroseconds / Math.Max(1, h.CandidatesTokens));
            Log($"    run {run + 1}/{options.Runs}: bare {b.DecodeTokensPerSecond,7:0.0} tok/s   HTTP {h.DecodeTokensPerSecond,7:0.0} tok/s " +
                $"({h.CandidatesTokens} tokens, {h.Events} events, TTFT {h.TtftMs:0} ms); CPU per token bare {bareCpuPerToken[^1]:0} µs, HTTP {httpCpuPerToken[^1]:0} µs");
            if (h.CandidatesTokens < options.Tokens)
                Log($"    note: the HTTP stream stopped after {h.CandidatesTokens} of {options.Tokens} tokens ({h.FinishReason}); rates use the real count.");
        }
        return new SingleStreamResult { Bare = bareRuns, Http = httpRuns, BareCpuMicrosPerToken = bareCpuPerToken, HttpCpuMicrosPerToken = httpCpuPerToken, External = externalRuns };
    }

    /// <summary>
    /// (b) Rounds of N simultaneous streams on the Parallel server; aggregate = all tokens / the round's wall time.
    /// Each round alternates with the same round on the bare engine batching N sequences (the engine's ceiling).
    /// </summary>
    private async Task<ConcurrencyResult> ConcurrencyAsync(BenchServer server, CancellationToken cancellationToken)
    {
        var levels = options.Concurrency;
        Log($"(b) concurrent streams {string.Join(", ", levels)}: {options.Tokens} tokens each, {options.Runs} runs per level, server Parallel = {server.Parallel}, " +
            "alternating with the bare engine batching as many sequences");
        if (levels.Max() > server.Parallel)
            Log($"    note: levels above Parallel = {server.Parallel} queue on the server.");

        using var bare = new BareEngine(_modelPath, options, options.ContextSize, sequences: levels.Max());
        // Warm-up: opens every connection and touches every sequence slot, on both sides.
        await Round(server, levels.Max(), WarmupTokens, cancellationToken);
        BareRound(bare, levels.Max(), WarmupTokens);

        var results = new List<IReadOnlyList<ConcurrencyRun>>();
        var bareResults = new List<IReadOnlyList<BareBatchRun>>();
        foreach (var streams in levels)
        {
            var runs = new List<ConcurrencyRun>();
            var bareRuns = new List<BareBatchRun>();
            for (var run = 0; run < options.Runs; run++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ConcurrencyRun r;
                BareBatchRun b;
                if (run % 2 == 0)
                {
                    r = await Round(server, streams, options.Tokens, cancellationToken);
                    b = BareRound(bare, streams, options.Tokens);
                }
                else
                {
                    b = BareRound(bare, streams, options.Tokens);
                    r = await Round(server, streams, options.Tokens, cancellationToken);
                }
                runs.Add(r);
                bareRuns.Add(b);
                Log($"    {streams} stream(s), run {run + 1}/{options.Runs}: HTTP {r.Aggregate,6:0.0} tok/s aggregate ({r.MeanStreamDecode:0.0} per stream, " +
                    $"mean TTFT {r.MeanTtftMs:0} ms)   bare batched {b.Aggregate,6:0.0} tok/s");
            }
            results.Add(runs);
            bareResults.Add(bareRuns);
        }
        return new ConcurrencyResult { Parallel = server.Parallel, Levels = results, BareLevels = bareResults };
    }

    private BareBatchRun BareRound(BareEngine bare, int streams, int tokens)
    {
        var prompts = Enumerable.Range(0, streams).Select(i => (IReadOnlyList<int>)bare.Tokenize(UniqueStory(i))).ToList();
        return bare.RunBatched(prompts, tokens, i => Sampling(i));
    }

    private async Task<ConcurrencyRun> Round(BenchServer server, int streams, int tokens, CancellationToken cancellationToken)
    {
        var texts = Enumerable.Range(0, streams).Select(UniqueStory).ToList();
        var start = Stopwatch.GetTimestamp();
        var tasks = Enumerable.Range(0, streams)
            .Select(i => server.StreamAsync(Request(texts[i], tokens, stream: i), cancellationToken))
            .ToArray();
        var results = await Task.WhenAll(tasks);
        var end = results.Max(r => r.EndTimestamp);
        var wall = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
        return new ConcurrencyRun(streams, wall, results.Sum(r => r.CandidatesTokens),
            Stats.Mean(results.Select(r => r.TtftMs).ToList()), Stats.Mean(results.Select(r => r.DecodeTokensPerSecond).ToList()));
    }

    /// <summary>
    /// (c) Sequential requests with a ~prefix-tokens system instruction. Misses start with a different word (a different
    /// first token) each time; then one request primes the shared prefix and the hits follow, differing only in the last user turn.
    /// </summary>
    private async Task<TtftResult> TtftAsync(BenchServer server, BareEngine bare, CancellationToken cancellationToken)
    {
        var shared = await SharedPrefixAsync(server, cancellationToken);
        var sharedTokens = await server.CountTokensAsync(shared, cancellationToken);
        var n = options.TtftRequests;

        // Openers: one for every hit, a different one (with a different first token) for each miss.
        var openers = DistinctOpeners(bare, shared, n + 1, out var distinct);
        var hitOpener = openers[0];
        Log($"(c) time to first token: {n} misses then {n} hits, sequential, shared prefix ≈ {sharedTokens} tokens, maxOutputTokens {options.TtftOutputTokens}");
        if (distinct < n + 1)
            Log($"    note: the tokenizer gave only {distinct} distinct first tokens for {n + 1} openers; some misses share their first token.");

        string Question(int i) => $"Question {i + 1}: {Prompts.Sentences(8, 1000 + i)} What happened next?";

        var promptTokens = 0;
        var miss = new List<double>();
        for (var i = 0; i < n; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var r = await server.StreamAsync(Request(Question(i), options.TtftOutputTokens, systemInstruction: $"{openers[1 + i]} {shared}"), cancellationToken);
            miss.Add(r.TtftMs);
            promptTokens = Math.Max(promptTokens, r.PromptTokens);
            Log($"    miss {i + 1}/{n}: TTFT {r.TtftMs,7:0.0} ms ({r.PromptTokens} prompt tokens)");
        }

        // The floor for a miss: the bare engine prefilling the same prompt text (as the transcript template renders it).
        var bareMs = new List<double>();
        for (var i = 0; i < Math.Min(3, n); i++)
        {
            var rendered = $"{openers[1 + i]} {shared}\n\nUser: {Question(i)}\n\nModel:";
            var r = bare.Run(bare.Tokenize(rendered), 1, Sampling());
            bareMs.Add(r.PrefillSeconds * 1000);
            Log($"    bare prefill {i + 1}/{Math.Min(3, n)}: {r.PrefillSeconds * 1000,7:0.0} ms ({r.PromptTokens} prompt tokens)");
        }

        var prime = await server.StreamAsync(Request("Warm-up: tell me a story.", options.TtftOutputTokens, systemInstruction: $"{hitOpener} {shared}"), cancellationToken);
        Log($"    prime: TTFT {prime.TtftMs,7:0.0} ms ({prime.PromptTokens} prompt tokens)");

        var hit = new List<double>();
        for (var i = 0; i < n; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var r = await server.StreamAsync(Request(Question(n + i), options.TtftOutputTokens, systemInstruction: $"{hitOpener} {shared}"), cancellationToken);
            hit.Add(r.TtftMs);
            promptTokens = Math.Max(promptTokens, r.PromptTokens);
            Log($"    hit  {i + 1}/{n}: TTFT {r.TtftMs,7:0.0} ms ({r.PromptTokens} prompt tokens)");
        }
        // The slots now hold these long prompts as resident prefixes; with a unified KV cache every decode step attends
        // over all used cells, so measure what that does to a plain single stream.
        var resident = new List<double>();
        for (var run = 0; run < options.Runs; run++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var r = await server.StreamAsync(Request(UniqueStory(0), options.Tokens), cancellationToken);
            resident.Add(r.DecodeTokensPerSecond);
            Log($"    single stream after (c), run {run + 1}/{options.Runs}: {r.DecodeTokensPerSecond,7:0.0} tok/s decode");
        }
        return new TtftResult
        {
            ResidentDecode = resident,
            PromptTokens = promptTokens,
            SharedPrefixTokens = sharedTokens,
            DistinctFirstTokens = distinct,
            MissMs = miss,
            HitMs = hit,
            PrimeMs = prime.TtftMs,
            BarePrefillMs = bareMs,
        };
    }

    /// <summary>Story text whose token count (as the server counts a lone user turn, BOS included) is close to --prefix-tokens.</summary>
    private async Task<string> SharedPrefixAsync(BenchServer server, CancellationToken cancellationToken)
    {
        var target = options.PrefixTokens;
        if (target + 64 + options.TtftOutputTokens > options.ContextSize)
            throw new BenchException($"--prefix-tokens {target} does not fit --context {options.ContextSize}; raise --context.");
        var words = Math.Max(4, target / 2);
        var text = Prompts.Sentences(words, 7);
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var count = await server.CountTokensAsync(text, cancellationToken);
            if (Math.Abs(count - target) <= Math.Max(4, target / 50)) break;
            words = Math.Max(4, (int)Math.Round(words * (double)target / count));
            text = Prompts.Sentences(words, 7);
        }
        return text;
    }

    private static List<string> DistinctOpeners(BareEngine bare, string shared, int needed, out int distinct)
    {
        var tail = shared.Length > 40 ? shared[..40] : shared;
        var skip = bare.Weights.Vocab.ShouldAddBOS ? 1 : 0;
        var chosen = new List<string>();
        var firstTokens = new HashSet<int>();
        var rest = new List<string>();
        foreach (var opener in Prompts.Openers)
        {
            var tokens = bare.Tokenize($"{opener} {tail}");
            if (tokens.Length > skip && firstTokens.Add(tokens[skip])) chosen.Add(opener);
            else rest.Add(opener);
        }
        distinct = Math.Min(chosen.Count, needed);
        // More requests than distinct openers: reuse openers with a number, which still differ from the second token on.
        for (var i = 0; chosen.Count < needed; i++)
            chosen.Add($"{Prompts.Openers[i % Prompts.Openers.Length]} {i / Prompts.Openers.Length + 2}");
        return chosen.Take(needed).ToList();
    }

    /// <summary>A story prompt that starts with a word no earlier prompt of this run started with (prefix reuse finds nothing to share).</summary>
    private string UniqueStory(int stream)
    {
        var n = _prompts++;
        var opener = Prompts.Openers[n % Prompts.Openers.Length];
        if (n >= Prompts.Openers.Length) opener += $" {n / Prompts.Openers.Length + 1}";
        return $"{opener}. {Prompts.Story(stream)}";
    }

    /// <summary>The 1-minute load average (Linux), NaN elsewhere.</summary>
    private static double LoadAverage()
    {
        try
        {
            var text = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg") : "";
            return double.TryParse(text.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var load) ? load : double.NaN;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    /// <summary>A disposed server's logger must not keep receiving llama.cpp's log; the bench's own logger takes it back.</summary>
    private static void ReclaimNativeLog() => Castor.Engine.Models.NativeLogging.RouteTo(Program.NativeLogger);

    private void Log(string message) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,6:0.0}s] {message}"));

    private static string Shorten(string s, int max)
    {
        s = s.ReplaceLineEndings(" ");
        return s.Length <= max ? s : s[..max] + "…";
    }
}
