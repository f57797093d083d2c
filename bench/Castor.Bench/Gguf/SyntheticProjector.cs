namespace Castor.Bench.Gguf;

/// <summary>
/// Writes random-weight multimodal projector (mmproj) GGUFs that llama.cpp's mtmd loads beside a text model: a tiny
/// ViT with an <c>mlp</c> (LLaVA) or <c>gemma3</c> projector, a tiny Qwen2-VL vision tower with its
/// <c>qwen2vl_merger</c> (dynamic resolution, M-RoPE; it pairs with an M-RoPE text model such as
/// <see cref="SyntheticQwen2VL"/>), and a tiny Whisper encoder with the <c>qwen2a</c> audio projector. Their output width is the text model's embedding width, so they pair with any text model of that width
/// (stories260K has 64). Random weights cost what trained ones of the same shape do, and different inputs give different
/// embeddings, which is all tests and the bench need. Keys and tensor shapes follow llama.cpp's clip loader (integers
/// must be UINT32; shapes are in ggml order, innermost first).
/// </summary>
public static class SyntheticProjector
{
    /// <summary>Projector types this writer knows.</summary>
    public static readonly IReadOnlyList<string> Types = ["mlp", "gemma3", "qwen2vl_merger", "qwen2a"];

    /// <summary>
    /// The vision tower's shape: the side of the square image the projector resizes every image to, its patch size
    /// (an <c>mlp</c> projector spends (ImageSize / PatchSize)² tokens an image), width, feed-forward width and blocks.
    /// </summary>
    public sealed record VisionShape(int ImageSize = 32, int PatchSize = 8, int Width = 32, int FeedForward = 48, int Blocks = 2);

    /// <summary>The tests' tower: 16 tokens an mlp image, encoded in a few milliseconds.</summary>
    public static readonly VisionShape Tiny = new();

    private const int AudioWidth = 32;
    private const int AudioFeedForward = 48;
    private const int MelBins = 128;
    private const int AudioPositions = 1500;

    /// <summary>Writes a projector of <paramref name="type"/> for a text model of width <paramref name="textEmbedding"/>.</summary>
    public static void Write(string path, string type, int textEmbedding, uint seed = 1, VisionShape? vision = null)
    {
        var w = Build(type, textEmbedding, seed, vision ?? Tiny);
        w.WriteTo(path);
    }

    public static GgufWriter Build(string type, int textEmbedding, uint seed, VisionShape v)
    {
        var w = new GgufWriter();
        w.Add("general.architecture", GgufValue.String("clip"));
        w.Add("general.name", GgufValue.String($"castor-synthetic-{type}"));
        w.Add("clip.projector_type", GgufValue.String(type));
        w.Add("clip.use_gelu", GgufValue.Bool(true));
        switch (type)
        {
            case "mlp":
                AddVision(w, seed, v);
                Dense(w, "mm.0", v.Width, textEmbedding, seed);
                Dense(w, "mm.2", textEmbedding, textEmbedding, seed, scale: 0.5f);
                break;
            case "gemma3":
                AddVision(w, seed, v);
                // Patches pooled 2×2 (the tests' 4×4 patches: 4 image tokens).
                w.Add("clip.vision.projector.scale_factor", GgufValue.UInt32(2));
                Norm(w, "v.post_ln", v.Width);
                w.AddTensor("mm.input_projection.weight", GgmlType.F32, [textEmbedding, v.Width], Noise("mm.input_projection", seed, 0.5f));
                w.AddTensor("mm.soft_emb_norm.weight", GgmlType.F32, [v.Width], (_, values) => values.Fill(1f));
                break;
            case "qwen2vl_merger":
                AddQwen2VL(w, seed, textEmbedding);
                break;
            case "qwen2a":
                AddAudio(w, seed, textEmbedding);
                break;
            default:
                throw new ArgumentException($"Unknown synthetic projector type '{type}'; known: {string.Join(", ", Types)}.", nameof(type));
        }
        return w;
    }

    private static void AddVision(GgufWriter w, uint seed, VisionShape v)
    {
        w.Add("clip.has_vision_encoder", GgufValue.Bool(true));
        w.Add("clip.has_audio_encoder", GgufValue.Bool(false));
        w.Add("clip.vision.image_size", GgufValue.UInt32((uint)v.ImageSize));
        w.Add("clip.vision.patch_size", GgufValue.UInt32((uint)v.PatchSize));
        w.Add("clip.vision.embedding_length", GgufValue.UInt32((uint)v.Width));
        w.Add("clip.vision.feed_forward_length", GgufValue.UInt32((uint)v.FeedForward));
        w.Add("clip.vision.block_count", GgufValue.UInt32((uint)v.Blocks));
        w.Add("clip.vision.projection_dim", GgufValue.UInt32((uint)v.Width));
        w.Add("clip.vision.attention.head_count", GgufValue.UInt32(4));
        w.Add("clip.vision.attention.layer_norm_epsilon", GgufValue.Float32(1e-6f));
        w.Add("clip.vision.image_mean", GgufValue.Array(GgufType.Float32, [0.5f, 0.5f, 0.5f]));
        w.Add("clip.vision.image_std", GgufValue.Array(GgufType.Float32, [0.5f, 0.5f, 0.5f]));
        var patches = v.ImageSize / v.PatchSize * (v.ImageSize / v.PatchSize);
        w.AddTensor("v.patch_embd.weight", GgmlType.F32, [v.PatchSize, v.PatchSize, 3, v.Width], Noise("v.patch_embd", seed, 0.2f));
        w.AddTensor("v.patch_embd.bias", GgmlType.F32, [v.Width], Noise("v.patch_embd.bias", seed, 0.02f));
        w.AddTensor("v.position_embd.weight", GgmlType.F32, [v.Width, patches], Noise("v.position_embd", seed, 0.02f));
        for (var i = 0; i < v.Blocks; i++) Block(w, $"v.blk.{i}", v.Width, v.FeedForward, seed, keyBias: true);
    }

    /// <summary>
    /// Qwen2-VL's vision tower: the image keeps its own size (rounded to whole 2×2 groups of patches, within the token
    /// limits), patches are embedded by two convolutions (a still image is its own second frame) without a bias or a
    /// position table (positions come from 2-D rotary embeddings), and the merger turns each 2×2 group of patches into
    /// one token: (width ÷ 8) × (height ÷ 8) tokens with these 4-pixel patches.
    /// </summary>
    private static void AddQwen2VL(GgufWriter w, uint seed, int textEmbedding)
    {
        const int patch = Qwen2VLPatchSize, width = 32, feedForward = 48, merged = width * 4;
        w.Add("clip.has_vision_encoder", GgufValue.Bool(true));
        w.Add("clip.has_audio_encoder", GgufValue.Bool(false));
        w.Add("clip.vision.image_size", GgufValue.UInt32(256));
        w.Add("clip.vision.patch_size", GgufValue.UInt32(patch));
        w.Add("clip.vision.embedding_length", GgufValue.UInt32(width));
        w.Add("clip.vision.feed_forward_length", GgufValue.UInt32(feedForward));
        w.Add("clip.vision.block_count", GgufValue.UInt32(2));
        w.Add("clip.vision.projection_dim", GgufValue.UInt32((uint)textEmbedding));
        w.Add("clip.vision.attention.head_count", GgufValue.UInt32(2));
        w.Add("clip.vision.attention.layer_norm_epsilon", GgufValue.Float32(1e-6f));
        w.Add("clip.vision.image_mean", GgufValue.Array(GgufType.Float32, [0.5f, 0.5f, 0.5f]));
        w.Add("clip.vision.image_std", GgufValue.Array(GgufType.Float32, [0.5f, 0.5f, 0.5f]));
        w.AddTensor("v.patch_embd.weight", GgmlType.F32, [patch, patch, 3, width], Noise("v.patch_embd", seed, 0.2f));
        w.AddTensor("v.patch_embd.weight.1", GgmlType.F32, [patch, patch, 3, width], Noise("v.patch_embd.1", seed, 0.2f));
        for (var i = 0; i < 2; i++) Block(w, $"v.blk.{i}", width, feedForward, seed, keyBias: true);
        Dense(w, "mm.0", merged, merged, seed);
        Dense(w, "mm.2", merged, textEmbedding, seed, scale: 0.5f);
    }

    /// <summary>The synthetic Qwen2-VL tower's patch side in pixels; its tokens are 2×2 patches, 8×8 pixels.</summary>
    public const int Qwen2VLPatchSize = 4;

    private static void AddAudio(GgufWriter w, uint seed, int textEmbedding)
    {
        w.Add("clip.has_vision_encoder", GgufValue.Bool(false));
        w.Add("clip.has_audio_encoder", GgufValue.Bool(true));
        w.Add("clip.audio.projector_type", GgufValue.String("qwen2a"));
        w.Add("clip.audio.embedding_length", GgufValue.UInt32(AudioWidth));
        w.Add("clip.audio.feed_forward_length", GgufValue.UInt32(AudioFeedForward));
        w.Add("clip.audio.block_count", GgufValue.UInt32(1));
        w.Add("clip.audio.projection_dim", GgufValue.UInt32((uint)textEmbedding));
        w.Add("clip.audio.attention.head_count", GgufValue.UInt32(4));
        w.Add("clip.audio.attention.layer_norm_epsilon", GgufValue.Float32(1e-5f));
        w.Add("clip.audio.num_mel_bins", GgufValue.UInt32(MelBins));
        w.AddTensor("a.conv1d.1.weight", GgmlType.F32, [3, MelBins, AudioWidth], Noise("a.conv1d.1", seed, 0.1f));
        w.AddTensor("a.conv1d.1.bias", GgmlType.F32, [1, AudioWidth], Noise("a.conv1d.1.bias", seed, 0.02f));
        w.AddTensor("a.conv1d.2.weight", GgmlType.F32, [3, AudioWidth, AudioWidth], Noise("a.conv1d.2", seed, 0.1f));
        w.AddTensor("a.conv1d.2.bias", GgmlType.F32, [1, AudioWidth], Noise("a.conv1d.2.bias", seed, 0.02f));
        w.AddTensor("a.position_embd.weight", GgmlType.F32, [AudioWidth, AudioPositions], Noise("a.position_embd", seed, 0.02f));
        // Whisper's key projection has no bias (the graph asserts it).
        Block(w, "a.blk.0", AudioWidth, AudioFeedForward, seed, keyBias: false);
        Norm(w, "a.post_ln", AudioWidth);
        Dense(w, "mm.a.fc", AudioWidth, textEmbedding, seed, scale: 0.5f);
    }

    private static void Block(GgufWriter w, string p, int width, int feedForward, uint seed, bool keyBias)
    {
        foreach (var m in new[] { "attn_q", "attn_k", "attn_v", "attn_out" })
        {
            w.AddTensor($"{p}.{m}.weight", GgmlType.F32, [width, width], Noise($"{p}.{m}", seed, 0.1f));
            if (m != "attn_k" || keyBias) w.AddTensor($"{p}.{m}.bias", GgmlType.F32, [width], Noise($"{p}.{m}.bias", seed, 0.02f));
        }
        Norm(w, $"{p}.ln1", width);
        Norm(w, $"{p}.ln2", width);
        Dense(w, $"{p}.ffn_up", width, feedForward, seed);
        Dense(w, $"{p}.ffn_down", feedForward, width, seed);
    }

    private static void Dense(GgufWriter w, string name, int input, int output, uint seed, float scale = 0.1f)
    {
        w.AddTensor(name + ".weight", GgmlType.F32, [input, output], Noise(name, seed, scale));
        w.AddTensor(name + ".bias", GgmlType.F32, [output], Noise(name + ".bias", seed, 0.02f));
    }

    private static void Norm(GgufWriter w, string name, int width)
    {
        w.AddTensor(name + ".weight", GgmlType.F32, [width], (_, v) => v.Fill(1f));
        w.AddTensor(name + ".bias", GgmlType.F32, [width], (_, v) => v.Clear());
    }

    /// <summary>Uniform noise in ±<paramref name="scale"/>, the same on every machine for one name, row and seed.</summary>
    private static RowFiller Noise(string name, uint seed, float scale) => (row, values) =>
    {
        var s = seed * 0x9E3779B97F4A7C15UL ^ (ulong)(row + 1) * 0xD1B54A32D192ED03UL;
        foreach (var c in name) s = (s ^ c) * 0x100000001B3UL;
        s |= 1;
        for (var i = 0; i < values.Length; i++)
        {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            values[i] = ((s >> 40) / (float)(1UL << 24) * 2f - 1f) * scale;
        }
    };
}
