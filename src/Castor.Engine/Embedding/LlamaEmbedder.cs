using System.Globalization;
using System.Text;
using Castor.Engine.Models;
using LLama;
using LLama.Common;
using LLama.Native;
using Microsoft.Extensions.Logging;

namespace Castor.Engine.Embedding;

/// <summary>
/// GGUF embedding models (EmbeddingGemma, nomic-embed, bge, Qwen3-Embedding, …) through llama.cpp. Each gets a llama
/// context of its own, created with embeddings on and the model's pooling, apart from any generation context, and
/// driven only by its <see cref="EmbeddingBatcher"/> thread: many texts go into one batch as separate sequences and
/// are computed by one decode.
/// </summary>
public static class LlamaEmbedder
{
    /// <summary>The Gemini embedding models' input limit, and a window most embedders were trained within.</summary>
    public const int DefaultMaxTokens = 2048;

    // Sequences per decode (llama.cpp allows 256) and tokens per decode when texts are packed: 512 rows already keep
    // the matrix products efficient on CPU, and 64 texts of 8 tokens fill them.
    private const int MaxSequencesPerDecode = 64;
    private const int RunTokens = 512;

    /// <summary>Architectures that only embed (encoders); a GGUF of one of these is an embedding model even without a pooling key.</summary>
    private static readonly HashSet<string> EncoderArchitectures = new(StringComparer.OrdinalIgnoreCase)
    {
        "bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "jina-bert-v3", "neo-bert", "modern-bert", "gemma-embedding", "t5encoder",
    };

    /// <summary>
    /// Whether a GGUF is an embedding model, from its metadata alone (the vocabulary is read, not the weights):
    /// it declares a pooling type other than none or rank, or its architecture is an encoder.
    /// </summary>
    public static bool IsEmbeddingModel(string path)
    {
        using var weights = LLamaWeights.LoadFromFile(new ModelParams(path) { VocabOnly = true, LoadMode = LLamaLoadMode.MemoryMap });
        return IsEmbeddingModel(weights.Metadata);
    }

    internal static bool IsEmbeddingModel(IReadOnlyDictionary<string, string> metadata)
    {
        var architecture = metadata.GetValueOrDefault("general.architecture") ?? "";
        if (EncoderArchitectures.Contains(architecture)) return true;
        return DeclaredPooling(metadata) is LLamaPoolingType.Mean or LLamaPoolingType.CLS or LLamaPoolingType.Last;
    }

    public static EmbeddingModel Load(EmbeddingModelSpec spec, EngineOptions options, ILogger logger)
    {
        var threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
        var parameters = new ModelParams(spec.Path)
        {
            Embeddings = true,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = options.GpuLayers,
            LoadMode = LLamaLoadMode.MemoryMap,
            // One cache for all sequences of a decode, so 64 short texts need no more cells than one long one.
            KVUnified = true,
            SeqMax = MaxSequencesPerDecode,
        };
        var weights = LLamaWeights.LoadFromFile(parameters);
        LlamaEmbeddingBackend? backend = null;
        try
        {
            var declared = DeclaredPooling(weights.Metadata);
            if (declared == LLamaPoolingType.Rank)
                throw new InvalidOperationException($"'{spec.Id}' is a reranking model (pooling type rank), not an embedding model.");
            var pooling = spec.Pooling ?? declared switch
            {
                LLamaPoolingType.CLS => EmbeddingPooling.Cls,
                LLamaPoolingType.Last => EmbeddingPooling.Last,
                // Mean is declared by most embedders, and the sensible choice for a GGUF that declares nothing.
                _ => EmbeddingPooling.Mean,
            };
            parameters.PoolingType = pooling switch
            {
                EmbeddingPooling.Cls => LLamaPoolingType.CLS,
                EmbeddingPooling.Last => LLamaPoolingType.Last,
                _ => LLamaPoolingType.Mean,
            };

            var maxTokens = spec.ContextSize ?? Math.Min(weights.ContextSize > 0 ? weights.ContextSize : DefaultMaxTokens, DefaultMaxTokens);
            if (maxTokens < 8)
                throw new InvalidOperationException($"Context size {maxTokens} is too small for embedding model '{spec.Id}'; use at least 8.");
            // Pooling needs each text whole in one micro-batch, so batch = micro-batch = context = the longest text, and
            // every run starts from an empty cache. Short texts are packed into runs of at most RunTokens: attention is
            // computed across the whole micro-batch (masked per text), so packing thousands of tokens would cost more in
            // attention than it saves in matrix products.
            var window = Math.Max(maxTokens, RunTokens);
            parameters.ContextSize = (uint)window;
            parameters.BatchSize = (uint)window;
            parameters.UBatchSize = (uint)window;

            backend = new LlamaEmbeddingBackend(weights, parameters, logger, MaxSequencesPerDecode, RunTokens);
            var architecture = weights.Metadata.GetValueOrDefault("general.architecture") ?? "unknown";
            var sourceName = weights.Metadata.GetValueOrDefault("general.name") is { Length: > 0 } n ? n : Path.GetFileNameWithoutExtension(spec.Path);
            var poolingSource = spec.Pooling is not null ? "configured" : declared is LLamaPoolingType.Mean or LLamaPoolingType.CLS or LLamaPoolingType.Last ? "from the GGUF" : "default; the GGUF declares none";
            var info = new EmbeddingModelInfo(
                Id: spec.Id,
                DisplayName: spec.DisplayName ?? sourceName,
                Description: $"Local GGUF embedding model {Path.GetFileName(spec.Path)} ({architecture}, {FormatCount(weights.ParameterCount)} parameters) on llama.cpp: " +
                             $"{backend.Dimensions} dimensions, {pooling.ToString().ToLowerInvariant()} pooling ({poolingSource}), up to {maxTokens} tokens per text (longer texts are truncated).",
                Dimensions: backend.Dimensions,
                MaxTokens: maxTokens,
                Architecture: architecture,
                SourceName: sourceName,
                Pooling: pooling,
                Runtime: "llama.cpp");
            return new EmbeddingModel(info, backend, options.MaxQueue, logger);
        }
        catch
        {
            // The backend owns the weights once it exists.
            if (backend is not null) backend.Dispose();
            else weights.Dispose();
            throw;
        }
    }

    private static LLamaPoolingType? DeclaredPooling(IReadOnlyDictionary<string, string> metadata)
    {
        var architecture = metadata.GetValueOrDefault("general.architecture");
        if (architecture is null || metadata.GetValueOrDefault(architecture + ".pooling_type") is not { } text) return null;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? (LLamaPoolingType)value : null;
    }

    private static string FormatCount(ulong n) => n switch
    {
        >= 1_000_000_000 => $"{n / 1e9:0.#}B",
        >= 1_000_000 => $"{n / 1e6:0.#}M",
        >= 1_000 => $"{n / 1e3:0.#}K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>One llama context in embedding mode; every call of <see cref="Compute"/> starts from an empty cache.</summary>
internal sealed class LlamaEmbeddingBackend : IEmbeddingBackend
{
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _batch = new();
    private readonly bool _encoderOnly;
    private readonly LLamaToken?[] _closing;

    public LlamaEmbeddingBackend(LLamaWeights weights, ModelParams parameters, ILogger logger, int maxSequences, int runTokens)
    {
        var model = weights.NativeHandle;
        if (model.HasEncoder && model.HasDecoder)
            throw new NotSupportedException("Encoder-decoder GGUF models cannot be used for embeddings.");
        _weights = weights;
        _encoderOnly = model.HasEncoder;
        _context = weights.CreateContext(parameters, logger);
        Dimensions = _context.EmbeddingSize;
        // Tokens the tokenizer may close a text with (BERT's [SEP], the EOS that last-token embedders append): truncation keeps them.
        _closing = [weights.Vocab.SEP, weights.Vocab.ShouldAddEOS ? weights.Vocab.EOS : null];
        Limits = new EmbeddingBatchLimits(MaxSequences: maxSequences, MaxTokens: runTokens, Padded: false,
            // llama.cpp's kernels change with the batch shape, so a text's vector varies in its last bits with its neighbours.
            BatchInvariant: false);
    }

    public int Dimensions { get; }
    public EmbeddingBatchLimits Limits { get; }

    public TokenizedText Tokenize(string text, int maxTokens)
    {
        var tokens = _weights.NativeHandle.Tokenize(text, true, false, Encoding.UTF8);
        var truncated = tokens.Length > maxTokens;
        var count = truncated ? maxTokens : tokens.Length;
        var ids = new int[count];
        for (var i = 0; i < count; i++) ids[i] = (int)tokens[i];
        if (truncated && Array.IndexOf(_closing, tokens[^1]) >= 0) ids[^1] = (int)tokens[^1];
        return new TokenizedText(ids, truncated);
    }

    public float[][] Compute(IReadOnlyList<int[]> sequences)
    {
        _context.NativeHandle.MemoryClear(true);
        _batch.Clear();
        for (var s = 0; s < sequences.Count; s++)
        {
            var tokens = sequences[s];
            for (var t = 0; t < tokens.Length; t++)
                _batch.Add((LLamaToken)tokens[t], t, (LLamaSeqId)s, true);
        }

        if (_encoderOnly)
        {
            var result = _context.NativeHandle.Encode(_batch);
            if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp could not encode the batch: {result}.");
        }
        else
        {
            var result = _context.NativeHandle.Decode(_batch);
            if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp could not decode the batch: {result}.");
        }

        var vectors = new float[sequences.Count][];
        for (var s = 0; s < sequences.Count; s++)
        {
            var pooled = _context.NativeHandle.GetEmbeddingsSeq((LLamaSeqId)s);
            if (pooled.Length < Dimensions)
                throw new InvalidOperationException("llama.cpp returned no pooled embedding; the context's pooling type is none.");
            vectors[s] = pooled[..Dimensions].ToArray();
        }
        return vectors;
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }
}
