namespace Castor.Bench.Gguf;

/// <summary>
/// Writes a tiny random-weight text model of llama.cpp's <c>qwen2vl</c> architecture (Qwen2-VL's decoder: Qwen2 with
/// biased q/k/v and M-RoPE, whose rotary dimensions are split in sections for time, height and width) with the
/// tokenizer of another GGUF, so the synthetic <c>qwen2vl_merger</c> projector has an M-RoPE model to pair with: an
/// image there advances the position by fewer than its tokens. Like the bench's <c>SyntheticModel</c>, dimension 0 of the
/// residual stream is a constant anchor on which every non-text token's output weight is strongly negative, so streams
/// never end early and always carry text.
/// </summary>
public static class SyntheticQwen2VL
{
    /// <summary>Width of the residual stream (what a paired projector must output).</summary>
    public const int Embedding = 64;
    private const int Layers = 2;
    private const int Heads = 4;
    private const int FeedForward = 128;
    private const int HeadDim = Embedding / Heads;

    /// <summary>Writes the model to <paramref name="path"/>, its tokenizer copied from <paramref name="tokenizerSource"/>.</summary>
    public static void Write(string path, string tokenizerSource, uint seed = 1)
    {
        var source = GgufReader.Read(tokenizerSource);
        var tokenizer = source.Metadata.Where(kv => kv.Key.StartsWith("tokenizer.", StringComparison.Ordinal)).ToList();
        var vocab = tokenizer.First(kv => kv.Key == "tokenizer.ggml.tokens").Value.Items.Count;
        var suppressed = SpecialTokens(tokenizer, vocab);

        var w = new GgufWriter();
        const string arch = "qwen2vl";
        w.Add("general.architecture", GgufValue.String(arch));
        w.Add("general.name", GgufValue.String("castor-synthetic-qwen2vl"));
        w.Add("general.file_type", GgufValue.UInt32(0));
        w.Add($"{arch}.vocab_size", GgufValue.UInt32((uint)vocab));
        w.Add($"{arch}.context_length", GgufValue.UInt32(4096));
        w.Add($"{arch}.embedding_length", GgufValue.UInt32(Embedding));
        w.Add($"{arch}.block_count", GgufValue.UInt32(Layers));
        w.Add($"{arch}.feed_forward_length", GgufValue.UInt32(FeedForward));
        w.Add($"{arch}.attention.head_count", GgufValue.UInt32(Heads));
        w.Add($"{arch}.attention.head_count_kv", GgufValue.UInt32(Heads));
        w.Add($"{arch}.rope.dimension_count", GgufValue.UInt32(HeadDim));
        w.Add($"{arch}.rope.freq_base", GgufValue.Float32(10000f));
        // Rotary pairs per section (time, height, width, unused): they add up to half the head, as Qwen2-VL's 16/24/24 of 128.
        w.Add($"{arch}.rope.dimension_sections", GgufValue.Array(GgufType.Int32, [2, 3, 3, 0]));
        w.Add($"{arch}.attention.layer_norm_rms_epsilon", GgufValue.Float32(1e-6f));
        foreach (var (key, value) in tokenizer) w.Add(key, value);

        w.AddTensor("token_embd.weight", GgmlType.F32, [Embedding, vocab], (row, v) =>
        {
            Fill(v, Seed("token_embd", row, seed), 1f);
            v[0] = 1f;
        });
        w.AddTensor("output_norm.weight", GgmlType.F32, [Embedding], (_, v) => v.Fill(1f));
        w.AddTensor("output.weight", GgmlType.F32, [Embedding, vocab], (row, v) =>
        {
            if (suppressed.Contains((int)row))
            {
                v[0] = -10f;
                return;
            }
            Fill(v, Seed("output", row, seed), 0.05f);
            v[0] = 0;
        });
        for (var layer = 0; layer < Layers; layer++)
        {
            var p = $"blk.{layer}.";
            w.AddTensor(p + "attn_norm.weight", GgmlType.F32, [Embedding], (_, v) => v.Fill(1f));
            foreach (var m in new[] { "attn_q", "attn_k", "attn_v" })
            {
                Reader(w, p + m + ".weight", Embedding, Embedding, seed);
                w.AddTensor(p + m + ".bias", GgmlType.F32, [Embedding], (row, v) => Fill(v, Seed(p + m + ".bias", row, seed), 0.02f));
            }
            Writer(w, p + "attn_output.weight", Embedding, Embedding, seed);
            w.AddTensor(p + "ffn_norm.weight", GgmlType.F32, [Embedding], (_, v) => v.Fill(1f));
            Reader(w, p + "ffn_gate.weight", Embedding, FeedForward, seed);
            Reader(w, p + "ffn_up.weight", Embedding, FeedForward, seed);
            Writer(w, p + "ffn_down.weight", FeedForward, Embedding, seed);
        }
        w.WriteTo(path);
    }

    // Matrices that read the residual stream ignore the anchor; those that write it leave it alone.
    private static void Reader(GgufWriter w, string name, long input, long output, uint seed) =>
        w.AddTensor(name, GgmlType.F32, [input, output], (row, v) =>
        {
            Fill(v, Seed(name, row, seed), 0.1f);
            v[0] = 0;
        });

    private static void Writer(GgufWriter w, string name, long input, long output, uint seed) =>
        w.AddTensor(name, GgmlType.F32, [input, output], (row, v) =>
        {
            if (row != 0) Fill(v, Seed(name, row, seed), 0.1f);
        });

    /// <summary>The tokenizer's special ids (BOS, EOS, unknown, padding) and every token typed other than normal or user-defined.</summary>
    private static HashSet<int> SpecialTokens(IReadOnlyList<KeyValuePair<string, GgufValue>> tokenizer, int vocab)
    {
        var set = new HashSet<int>();
        foreach (var (key, value) in tokenizer)
        {
            if (key.EndsWith("_token_id", StringComparison.Ordinal) && value.Type != GgufType.Array)
                set.Add((int)value.AsInteger());
            else if (key == "tokenizer.ggml.token_type")
                for (var i = 0; i < value.Items.Count && i < vocab; i++)
                    if (GgufValue.Scalar(value.ElementType, value.Items[i]).AsInteger() is not (1 or 4)) set.Add(i);
        }
        return set;
    }

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

    private static ulong Seed(string tensor, long row, uint seed)
    {
        var h = 14695981039346656037UL ^ seed;
        foreach (var c in tensor) h = (h ^ c) * 1099511628211UL;
        h ^= (ulong)row * 0x9E3779B97F4A7C15UL;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        return h;
    }
}
