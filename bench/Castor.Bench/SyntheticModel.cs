using System.Diagnostics;
using System.Globalization;
using Castor.Bench.Gguf;

namespace Castor.Bench;

/// <summary>The shape of a synthesised llama-architecture model.</summary>
public sealed record ModelShape(string Name, int Embedding, int Layers, int Heads, int KvHeads, int FeedForward, int TrainingContext)
{
    public int HeadDim => Embedding / Heads;
    public int KvEmbedding => HeadDim * KvHeads;

    /// <summary>Parameters for a vocabulary of <paramref name="vocab"/> tokens (embeddings and output untied, as in llama).</summary>
    public long Parameters(int vocab)
    {
        long e = Embedding, f = FeedForward, kv = KvEmbedding;
        var perLayer = 2 * e * e + 2 * e * kv + 3 * e * f + 2 * e;
        return Layers * perLayer + 2L * vocab * e + e;
    }

    /// <summary>~10 M, ~100 M and ~400 M parameters with the 512-token stories260K vocabulary.</summary>
    public static readonly IReadOnlyDictionary<string, ModelShape> Presets = new Dictionary<string, ModelShape>(StringComparer.OrdinalIgnoreCase)
    {
        ["small"] = new("small", Embedding: 288, Layers: 11, Heads: 6, KvHeads: 2, FeedForward: 768, TrainingContext: 2048),
        ["base"] = new("base", Embedding: 768, Layers: 16, Heads: 12, KvHeads: 4, FeedForward: 2048, TrainingContext: 2048),
        ["large"] = new("large", Embedding: 1536, Layers: 16, Heads: 12, KvHeads: 4, FeedForward: 4096, TrainingContext: 4096),
    };
}

/// <summary>
/// Synthesises a random-weight llama GGUF with a real tokenizer copied from another GGUF. Random weights cost exactly
/// what trained ones do to run (same tensors, same kernels), so decode and prefill speeds are realistic.
/// <para>
/// The weights are arranged so generation is well behaved: dimension 0 of the residual stream is a constant "anchor"
/// (1.0 in every token embedding; no layer reads it, no layer writes it). The output matrix gives every non-text token
/// (BOS, EOS, unknown, control, byte and unused tokens) a weight of -10 on the anchor and text tokens 0 there, so the
/// model never ends a stream early or emits raw bytes; everything else is uniform noise of ±0.02 (embeddings ±1),
/// norms are 1.0. Streams therefore always run to maxOutputTokens and every token carries text.
/// </para>
/// </summary>
public static class SyntheticModel
{
    /// <summary>Bump when the recipe changes, so cached files are rebuilt.</summary>
    private const int RecipeVersion = 1;
    private const string RecipeKey = "castor.bench.recipe";
    private const float MatrixScale = 0.02f;
    private const float SuppressWeight = -10f;

    /// <summary>Returns the cached model for this recipe, writing it first if it is missing or stale.</summary>
    public static string Ensure(ModelShape shape, GgmlType type, string tokenizerSource, string cacheFolder, Action<string> log)
    {
        var source = GgufReader.Read(tokenizerSource);
        var tokenizer = source.Metadata.Where(kv => kv.Key.StartsWith("tokenizer.", StringComparison.Ordinal)).ToList();
        var tokens = tokenizer.FirstOrDefault(kv => kv.Key == "tokenizer.ggml.tokens").Value
            ?? throw new InvalidDataException($"{tokenizerSource} has no tokenizer.ggml.tokens to copy.");
        var vocab = tokens.Items.Count;

        var typeName = type.ToString().ToLowerInvariant();
        var sourceInfo = new FileInfo(tokenizerSource);
        var recipe = string.Create(CultureInfo.InvariantCulture,
            $"v{RecipeVersion};{shape};{type};tokenizer={sourceInfo.Name}:{sourceInfo.Length}");
        Directory.CreateDirectory(cacheFolder);
        var path = Path.Combine(cacheFolder, $"castor-bench-{shape.Name}-{typeName}.gguf");

        if (File.Exists(path))
        {
            try
            {
                if (GgufReader.Read(path).GetString(RecipeKey) == recipe)
                {
                    log($"Using cached model {path}");
                    return path;
                }
            }
            catch (InvalidDataException)
            {
            }
            log($"Cached {Path.GetFileName(path)} was made with another recipe; rebuilding it.");
        }

        log($"Synthesising {shape.Name} model: {shape.Parameters(vocab) / 1e6:0.0} M parameters, {type}, vocabulary of {vocab} from {sourceInfo.Name} …");
        var clock = Stopwatch.StartNew();
        var writer = Build(shape, type, tokenizer, vocab, recipe);
        writer.WriteTo(path);
        log($"  wrote {path} ({new FileInfo(path).Length / (1024.0 * 1024):0.0} MiB) in {clock.Elapsed.TotalSeconds:0.0} s");
        Check(path, shape, vocab);
        return path;
    }

    public static GgufWriter Build(ModelShape shape, GgmlType type, IReadOnlyList<KeyValuePair<string, GgufValue>> tokenizer, int vocab, string recipe)
    {
        if (shape.Embedding % shape.Heads != 0 || shape.Heads % shape.KvHeads != 0)
            throw new ArgumentException($"Shape {shape} has heads that do not divide the embedding.", nameof(shape));

        var w = new GgufWriter();
        const string arch = "llama";
        w.Add("general.architecture", GgufValue.String(arch));
        w.Add("general.name", GgufValue.String($"castor-bench-{shape.Name}"));
        w.Add("general.file_type", GgufValue.UInt32(type switch { GgmlType.F32 => 0u, GgmlType.F16 => 1u, GgmlType.Q8_0 => 7u, _ => 0u }));
        if (type == GgmlType.Q8_0) w.Add("general.quantization_version", GgufValue.UInt32(2));
        w.Add(RecipeKey, GgufValue.String(recipe));
        w.Add($"{arch}.vocab_size", GgufValue.UInt32((uint)vocab));
        w.Add($"{arch}.context_length", GgufValue.UInt32((uint)shape.TrainingContext));
        w.Add($"{arch}.embedding_length", GgufValue.UInt32((uint)shape.Embedding));
        w.Add($"{arch}.block_count", GgufValue.UInt32((uint)shape.Layers));
        w.Add($"{arch}.feed_forward_length", GgufValue.UInt32((uint)shape.FeedForward));
        w.Add($"{arch}.attention.head_count", GgufValue.UInt32((uint)shape.Heads));
        w.Add($"{arch}.attention.head_count_kv", GgufValue.UInt32((uint)shape.KvHeads));
        w.Add($"{arch}.rope.dimension_count", GgufValue.UInt32((uint)shape.HeadDim));
        w.Add($"{arch}.rope.freq_base", GgufValue.Float32(10000f));
        w.Add($"{arch}.attention.layer_norm_rms_epsilon", GgufValue.Float32(1e-5f));
        foreach (var (key, value) in tokenizer) w.Add(key, value);

        var suppressed = NonTextTokens(tokenizer, vocab);
        long e = shape.Embedding, f = shape.FeedForward, kv = shape.KvEmbedding;

        // Token embeddings: the anchor (1.0) in dimension 0, noise elsewhere.
        w.AddTensor("token_embd.weight", type, [e, vocab], (row, v) =>
        {
            Fill(v, Seed("token_embd", row), 1f);
            v[0] = 1f;
        });
        w.AddTensor("output_norm.weight", GgmlType.F32, [e], (_, v) => v.Fill(1f));
        // Output: row = token. Non-text tokens weigh -10 on the anchor, text tokens 0 there and noise elsewhere.
        w.AddTensor("output.weight", type, [e, vocab], (row, v) =>
        {
            if (suppressed.Contains((int)row))
            {
                v[0] = SuppressWeight;
                return;
            }
            Fill(v, Seed("output", row), MatrixScale);
            v[0] = 0;
        });

        for (var layer = 0; layer < shape.Layers; layer++)
        {
            var p = $"blk.{layer}.";
            w.AddTensor(p + "attn_norm.weight", GgmlType.F32, [e], (_, v) => v.Fill(1f));
            // Matrices that read the residual stream ignore the anchor (column 0 is zero) ...
            AddReader(w, p + "attn_q.weight", type, e, e);
            AddReader(w, p + "attn_k.weight", type, e, kv);
            AddReader(w, p + "attn_v.weight", type, e, kv);
            // ... and those that write it leave the anchor alone (row 0 is zero).
            AddWriter(w, p + "attn_output.weight", type, e, e);
            w.AddTensor(p + "ffn_norm.weight", GgmlType.F32, [e], (_, v) => v.Fill(1f));
            AddReader(w, p + "ffn_gate.weight", type, e, f);
            AddWriter(w, p + "ffn_down.weight", type, f, e);
            AddReader(w, p + "ffn_up.weight", type, e, f);
        }
        return w;
    }

    private static void AddReader(GgufWriter w, string name, GgmlType type, long input, long output) =>
        w.AddTensor(name, type, [input, output], (row, v) =>
        {
            Fill(v, Seed(name, row), MatrixScale);
            v[0] = 0;
        });

    private static void AddWriter(GgufWriter w, string name, GgmlType type, long input, long output) =>
        w.AddTensor(name, type, [input, output], (row, v) =>
        {
            if (row != 0) Fill(v, Seed(name, row), MatrixScale);
        });

    /// <summary>Tokens that are not plain text: BOS/EOS/EOT/unknown/padding ids and every token typed other than normal (1) or user-defined (4).</summary>
    private static HashSet<int> NonTextTokens(IReadOnlyList<KeyValuePair<string, GgufValue>> tokenizer, int vocab)
    {
        var set = new HashSet<int>();
        foreach (var (key, value) in tokenizer)
        {
            if (key.EndsWith("_token_id", StringComparison.Ordinal) && value.Type != GgufType.Array)
            {
                var id = value.AsInteger();
                if (id >= 0 && id < vocab) set.Add((int)id);
            }
            else if (key == "tokenizer.ggml.token_type")
            {
                for (var i = 0; i < value.Items.Count && i < vocab; i++)
                {
                    var t = GgufValue.Scalar(value.ElementType, value.Items[i]).AsInteger();
                    if (t is not (1 or 4)) set.Add(i);
                }
            }
        }
        // A tokenizer with unusual types must still leave text to generate: then only the special ids are suppressed.
        if (vocab - set.Count < 16)
            return NonTextTokens(tokenizer.Where(kv => kv.Key != "tokenizer.ggml.token_type").ToList(), vocab);
        return set;
    }

    /// <summary>Uniform noise in ±<paramref name="scale"/> from a xorshift generator: fast and identical on every machine.</summary>
    private static void Fill(Span<float> values, ulong seed, float scale)
    {
        var s = seed | 1;
        for (var i = 0; i < values.Length; i++)
        {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            values[i] = ((s >> 40) / (float)(1 << 24) * 2f - 1f) * scale;
        }
    }

    private static ulong Seed(string tensor, long row)
    {
        // FNV-1a over the name, mixed with the row: stable across runs and processes (unlike string.GetHashCode).
        var h = 14695981039346656037UL;
        foreach (var c in tensor) h = (h ^ c) * 1099511628211UL;
        h ^= (ulong)row * 0x9E3779B97F4A7C15UL;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        return h;
    }

    /// <summary>Reads the written header back and checks it against the shape (a cheap guard on the writer itself).</summary>
    private static void Check(string path, ModelShape shape, int vocab)
    {
        var header = GgufReader.Read(path);
        var expected = 3 + 9 * shape.Layers;
        if (header.Tensors.Count != expected) throw new InvalidDataException($"{path}: {header.Tensors.Count} tensors, expected {expected}.");
        var embd = header.Tensors.Single(t => t.Name == "token_embd.weight");
        if (embd.Dims[0] != (ulong)shape.Embedding || embd.Dims[1] != (ulong)vocab) throw new InvalidDataException($"{path}: token_embd.weight has dims [{string.Join(", ", embd.Dims)}].");
        var length = new FileInfo(path).Length;
        var last = header.Tensors[^1];
        if (header.DataOffset + (long)last.Offset > length) throw new InvalidDataException($"{path} is shorter than its tensor table says.");
    }
}
