using System.Diagnostics;
using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Castor.Bench;

/// <summary>One run of the bare loop: times from the first prompt token to the first sampled token, and on to the last.</summary>
public sealed record BareRun(int PromptTokens, int Tokens, double PrefillSeconds, double DecodeSeconds)
{
    public double TotalSeconds => PrefillSeconds + DecodeSeconds;
    /// <summary>Tokens after the first, over the time after the first: steady-state decode speed.</summary>
    public double DecodeTokensPerSecond => (Tokens - 1) / DecodeSeconds;
    public double EndToEndTokensPerSecond => Tokens / TotalSeconds;
}

/// <summary>The sampling settings the bench uses on both sides (no penalties).</summary>
public sealed record Sampling(float Temperature, float TopP, int TopK, uint Seed)
{
    /// <summary>
    /// The chain Castor's <c>SamplerChain</c> builds for these settings: top-k, top-p, temperature, seeded draw
    /// (built here rather than called, so the bench does not break while the engine's internals move).
    /// </summary>
    public SafeLLamaSamplerChainHandle CreateChain()
    {
        var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        if (Temperature <= 0)
        {
            chain.AddGreedySampler();
            return chain;
        }
        if (TopK > 0) chain.AddTopK(TopK);
        if (TopP is > 0 and < 1) chain.AddTopP(TopP, 1);
        chain.AddTemperature(Temperature);
        chain.AddDistributionSampler(Seed);
        return chain;
    }
}

/// <summary>One <see cref="BareEngine.Lockstep"/> run: per step after the first token, each side's decode and sampling time (ms).</summary>
public sealed record LockstepRun(int PromptTokens, IReadOnlyList<(double DecodeA, double SampleA, double DecodeB, double SampleB)> Steps)
{
    /// <summary>Tokens per side, the first (drawn from the prefill) included.</summary>
    public int Tokens => Steps.Count + 1;
}

/// <summary>One round of the batched bare loop: every stream's tokens over the round's time, prompts included.</summary>
public sealed record BareBatchRun(int Streams, int Tokens, double Seconds)
{
    public double Aggregate => Tokens / Seconds;
}

public sealed record ModelCheckResult(int Vocabulary, ulong Parameters, ulong Bytes, int TokensChecked, int DistinctTokens, string Sample);

/// <summary>
/// The engine with nothing around it: one llama context created with the parameters Castor's <c>LlamaModel.Load</c>
/// uses (unified KV sized for every sequence's window, batch 512, the same threads as the server: decode and batch threads resolved alike), driven by a tight loop of
/// synchronous <c>Decode</c> calls and the sampler chain Castor builds for the same settings. No detokenizing, no channels, no HTTP.
/// </summary>
public sealed class BareEngine : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _batch = new();
    private readonly int _batchSize;

    /// <param name="flashAttention">Unset: what Castor chooses when nothing is configured (<see cref="Castor.Engine.Models.FlashAttention.Resolve"/>).</param>
    public BareEngine(string modelPath, BenchOptions threads, int contextPerSequence, int sequences = 1, int batchSize = 512,
        Castor.Engine.Models.FlashAttentionMode? flashAttention = null)
    {
        _batchSize = batchSize;
        Sequences = sequences;
        var parameters = new ModelParams(modelPath)
        {
            ContextSize = (uint)(contextPerSequence * sequences),
            SeqMax = (uint)sequences,
            KVUnified = true,
            BatchSize = (uint)batchSize,
            UBatchSize = (uint)batchSize,
            Threads = threads.DecodeThreads,
            BatchThreads = threads.BatchThreads,
            GpuLayerCount = 0,
            LoadMode = LLamaLoadMode.MemoryMap,
        };
        _weights = LLamaWeights.LoadFromFile(parameters);
        try
        {
            parameters.FlashAttention = Castor.Engine.Models.FlashAttention.Resolve(flashAttention, gpuLayers: 0,
                Castor.Engine.Models.FlashAttention.HeadSize(_weights.Metadata));
            _context = _weights.CreateContext(parameters);
        }
        catch
        {
            _weights.Dispose();
            throw;
        }
    }

    public LLamaWeights Weights => _weights;
    public int Sequences { get; }

    /// <summary>Tokenizes plain text the way Castor does for a lone user turn without a chat template (BOS when the model wants one).</summary>
    public int[] Tokenize(string text, bool addBos = true)
    {
        var tokens = _weights.NativeHandle.Tokenize(text, addBos && _weights.Vocab.ShouldAddBOS, false, Encoding.UTF8);
        var result = new int[tokens.Length];
        for (var i = 0; i < tokens.Length; i++) result[i] = (int)tokens[i];
        return result;
    }

    public BareRun Run(IReadOnlyList<int> prompt, int tokens, Sampling sampling)
    {
        var ctx = _context.NativeHandle;
        var seq = (LLamaSeqId)0;
        ctx.MemorySequenceRemove(seq, -1, -1);

        var start = Stopwatch.GetTimestamp();
        var logitIndex = Prefill(prompt, seq);
        using var sampler = sampling.CreateChain();
        var token = sampler.Sample(ctx, logitIndex);
        sampler.Accept(token);
        var first = Stopwatch.GetTimestamp();

        var position = prompt.Count;
        for (var i = 1; i < tokens; i++)
        {
            _batch.Clear();
            _batch.Add(token, position++, seq, true);
            Decode();
            token = sampler.Sample(ctx, 0);
            sampler.Accept(token);
        }
        var end = Stopwatch.GetTimestamp();
        ctx.MemorySequenceRemove(seq, -1, -1);
        return new BareRun(prompt.Count, tokens, Stopwatch.GetElapsedTime(start, first).TotalSeconds, Stopwatch.GetElapsedTime(first, end).TotalSeconds);
    }

    /// <summary>
    /// Two sampler configurations (say, with and without a grammar) on the same prompt, each on its own engine (context),
    /// in lockstep: after both prefills, every step decodes one token on each side, alternating which goes first, so both
    /// sides always attend over the same number of positions and share whatever the machine is doing at that moment.
    /// Decode and sampling are timed apart, per step. Castor's <see cref="Castor.Engine.Sampling.TokenSampler"/> accepts
    /// what it draws. Ends after <paramref name="maxTokens"/> tokens, or when either side draws an end of generation
    /// (a complete grammar allows nothing else); both sides then have the same number of tokens.
    /// </summary>
    public static LockstepRun Lockstep(IReadOnlyList<int> prompt, int maxTokens,
        BareEngine a, Castor.Engine.Sampling.TokenSampler samplerA, BareEngine b, Castor.Engine.Sampling.TokenSampler samplerB)
    {
        var seq = (LLamaSeqId)0;
        a._context.NativeHandle.MemorySequenceRemove(seq, -1, -1);
        b._context.NativeHandle.MemorySequenceRemove(seq, -1, -1);
        var tokenA = samplerA.Sample(a._context.NativeHandle, a.Prefill(prompt, seq));
        var tokenB = samplerB.Sample(b._context.NativeHandle, b.Prefill(prompt, seq));
        var steps = new List<(double DecodeA, double SampleA, double DecodeB, double SampleB)>();
        var position = prompt.Count;
        while (steps.Count + 1 < maxTokens && !tokenA.IsEndOfGeneration(a._weights.Vocab) && !tokenB.IsEndOfGeneration(b._weights.Vocab))
        {
            double decodeA, sampleA, decodeB, sampleB;
            if (steps.Count % 2 == 0)
            {
                (decodeA, sampleA) = a.Step(ref tokenA, position, samplerA);
                (decodeB, sampleB) = b.Step(ref tokenB, position, samplerB);
            }
            else
            {
                (decodeB, sampleB) = b.Step(ref tokenB, position, samplerB);
                (decodeA, sampleA) = a.Step(ref tokenA, position, samplerA);
            }
            steps.Add((decodeA, sampleA, decodeB, sampleB));
            position++;
        }
        a._context.NativeHandle.MemorySequenceRemove(seq, -1, -1);
        b._context.NativeHandle.MemorySequenceRemove(seq, -1, -1);
        return new LockstepRun(prompt.Count, steps);
    }

    private (double DecodeMs, double SampleMs) Step(ref LLamaToken token, int position, Castor.Engine.Sampling.TokenSampler sampler)
    {
        var start = Stopwatch.GetTimestamp();
        _batch.Clear();
        _batch.Add(token, position, (LLamaSeqId)0, true);
        Decode();
        var decoded = Stopwatch.GetTimestamp();
        token = sampler.Sample(_context.NativeHandle, 0);
        var end = Stopwatch.GetTimestamp();
        return (Stopwatch.GetElapsedTime(start, decoded).TotalMilliseconds, Stopwatch.GetElapsedTime(decoded, end).TotalMilliseconds);
    }

    /// <summary>
    /// What a server with Parallel = N could do at best: N sequences decoded together, one token each per
    /// <c>Decode</c>, each with its own sampler chain (seeded per stream), from their prompts to <paramref name="tokens"/> each.
    /// </summary>
    public BareBatchRun RunBatched(IReadOnlyList<IReadOnlyList<int>> prompts, int tokens, Func<int, Sampling> sampling)
    {
        var n = prompts.Count;
        if (n > Sequences) throw new ArgumentException($"This context holds {Sequences} sequences, not {n}.", nameof(prompts));
        var ctx = _context.NativeHandle;
        ctx.MemoryClear(true);
        var samplers = new SafeLLamaSamplerChainHandle[n];
        var last = new LLamaToken[n];
        var positions = new int[n];
        try
        {
            for (var i = 0; i < n; i++) samplers[i] = sampling(i).CreateChain();
            var start = Stopwatch.GetTimestamp();

            // Prompts, packed into batches of up to the batch size; each sequence samples where its prompt ends.
            _batch.Clear();
            var pending = new List<(int Seq, int Index)>();
            for (var i = 0; i < n; i++)
            {
                for (var k = 0; k < prompts[i].Count; k++)
                {
                    var isLast = k == prompts[i].Count - 1;
                    if (isLast) pending.Add((i, _batch.TokenCount));
                    _batch.Add(prompts[i][k], k, (LLamaSeqId)i, isLast);
                    if (_batch.TokenCount == _batchSize) FlushPrompts(pending, samplers, last);
                }
                positions[i] = prompts[i].Count;
            }
            if (_batch.TokenCount > 0) FlushPrompts(pending, samplers, last);

            for (var step = 1; step < tokens; step++)
            {
                _batch.Clear();
                for (var i = 0; i < n; i++) _batch.Add(last[i], positions[i]++, (LLamaSeqId)i, true);
                Decode();
                for (var i = 0; i < n; i++)
                {
                    last[i] = samplers[i].Sample(ctx, i);
                    samplers[i].Accept(last[i]);
                }
            }
            var end = Stopwatch.GetTimestamp();
            return new BareBatchRun(n, n * tokens, Stopwatch.GetElapsedTime(start, end).TotalSeconds);
        }
        finally
        {
            foreach (var sampler in samplers) sampler?.Dispose();
            ctx.MemoryClear(true);
        }
    }

    private void FlushPrompts(List<(int Seq, int Index)> pending, SafeLLamaSamplerChainHandle[] samplers, LLamaToken[] last)
    {
        Decode();
        foreach (var (seq, index) in pending)
        {
            last[seq] = samplers[seq].Sample(_context.NativeHandle, index);
            samplers[seq].Accept(last[seq]);
        }
        pending.Clear();
        _batch.Clear();
    }

    /// <summary>
    /// Decodes a prompt and a few tokens, checking that every logit is finite and varies, and that generation produces
    /// text. With <paramref name="expectTextOnly"/> (synthesised models) an end-of-generation or control token fails it.
    /// </summary>
    public ModelCheckResult Check(string prompt, int tokens, bool expectTextOnly)
    {
        var ctx = _context.NativeHandle;
        var seq = (LLamaSeqId)0;
        ctx.MemorySequenceRemove(seq, -1, -1);
        var promptTokens = Tokenize(prompt);
        var logitIndex = Prefill(promptTokens, seq);
        using var sampler = new Sampling(1.0f, 0.95f, 64, 1234).CreateChain();
        var decoder = new StreamingTokenDecoder(Encoding.UTF8, _weights);
        var vocab = _weights.Vocab;
        var seen = new HashSet<int>();
        var position = promptTokens.Length;
        for (var i = 0; i < tokens; i++)
        {
            CheckLogits(ctx.GetLogitsIth(logitIndex), i);
            var token = sampler.Sample(ctx, logitIndex);
            sampler.Accept(token);
            if (expectTextOnly && (token == (vocab.BOS ?? LLamaToken.InvalidToken) || token.IsEndOfGeneration(vocab)))
                throw new InvalidDataException($"The synthesised model produced the special token {(int)token} at step {i}; the weights are not as intended.");
            seen.Add((int)token);
            decoder.Add(token);
            _batch.Clear();
            _batch.Add(token, position++, seq, true);
            Decode();
            logitIndex = 0;
        }
        ctx.MemorySequenceRemove(seq, -1, -1);
        var text = decoder.Read();
        if (expectTextOnly && (string.IsNullOrWhiteSpace(text) || text.Contains('\uFFFD')))
            throw new InvalidDataException($"The synthesised model produced unreadable text: \"{text}\".");
        if (tokens >= 8 && seen.Count < 2)
            throw new InvalidDataException($"The model produced the same token {tokens} times; its logits look degenerate.");
        return new ModelCheckResult(vocab.Count, _weights.ParameterCount, _weights.SizeInBytes, tokens, seen.Count, text);
    }

    private static void CheckLogits(Span<float> logits, int step)
    {
        double sum = 0, sumSq = 0;
        foreach (var x in logits)
        {
            if (!float.IsFinite(x)) throw new InvalidDataException($"The model produced a non-finite logit ({x}) at step {step}.");
            sum += x;
            sumSq += (double)x * x;
        }
        var mean = sum / logits.Length;
        var variance = sumSq / logits.Length - mean * mean;
        if (!(variance > 1e-12)) throw new InvalidDataException($"The model's logits are all equal at step {step}.");
    }

    private int Prefill(IReadOnlyList<int> prompt, LLamaSeqId seq)
    {
        var logitIndex = 0;
        for (var offset = 0; offset < prompt.Count; offset += _batchSize)
        {
            _batch.Clear();
            var count = Math.Min(_batchSize, prompt.Count - offset);
            for (var k = 0; k < count; k++)
            {
                var last = offset + k == prompt.Count - 1;
                if (last) logitIndex = k;
                _batch.Add(prompt[offset + k], offset + k, seq, last);
            }
            Decode();
        }
        return logitIndex;
    }

    private void Decode()
    {
        var result = _context.NativeHandle.Decode(_batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp could not decode the batch ({result}).");
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }
}
