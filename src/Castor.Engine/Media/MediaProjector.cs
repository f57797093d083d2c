using System.Buffers.Binary;
using Castor.Engine.Models;
using Castor.Engine.Scheduling;
using LLama;
using LLama.Native;

namespace Castor.Engine.Media;

/// <summary>
/// A multimodal projector (an <c>mmproj</c> GGUF) loaded once beside its text model through llama.cpp's mtmd, shared by
/// every request: it turns a prompt's text and decoded media into <see cref="EnginePrompt"/> chunks whose media
/// placeholders the scheduler encodes into a sequence. Capabilities come from mtmd, except non-causal attention, which
/// is decided from the projector type (LLamaSharp 0.30's binding of <c>mtmd_decode_use_non_causal</c> passes too few
/// arguments).
/// <para>
/// mtmd fixes an image's token budget per context (<c>image_min_tokens</c>/<c>image_max_tokens</c>), so projectors
/// with a dynamic resolution get one more context per <see cref="PromptMedia.MaxImageTokens"/> that a request asks for, loaded on
/// first use (each holds its own copy of the projector weights); fixed-size projectors use the one context for all.
/// </para>
/// </summary>
public sealed class MediaProjector : IDisposable
{
    /// <summary>Projector types whose image size (and token count) follows the image, within min/max image tokens.</summary>
    private static readonly HashSet<string> DynamicResolution = new(StringComparer.OrdinalIgnoreCase)
    {
        "qwen2vl_merger", "qwen2.5vl_merger", "qwen3vl_merger", "kimivl", "lfm2", "glm4v", "pixtral", "lightonocr",
    };

    /// <summary>Projector types whose image embeddings attend to each other both ways (mtmd switches causal attention off).</summary>
    private static readonly HashSet<string> NonCausalTypes = new(StringComparer.OrdinalIgnoreCase) { "gemma3", "gemma4v" };

    private readonly LLamaWeights _text;
    private readonly int _threads;
    private readonly MtmdWeights _default;
    private readonly Dictionary<int, MtmdWeights> _byResolution = [];
    private readonly Lock _gate = new();
    private readonly int[] _trailingNul;
    private readonly MediaLayoutCache _layouts = new(LayoutCacheCapacity);

    /// <summary>Media items whose layout is remembered: a few hundred bytes each.</summary>
    internal const int LayoutCacheCapacity = 512;

    private MediaProjector(string path, string type, LLamaWeights text, int threads, string marker, MtmdWeights weights)
    {
        Path = path;
        ProjectorType = type;
        _text = text;
        _threads = threads;
        Marker = marker;
        _default = weights;
        SupportsVision = weights.SupportsVision;
        SupportsAudio = weights.SupportsAudio;
        AudioSampleRate = SupportsAudio ? weights.SampleRate : 0;
        UsesMRope = weights.UsesMRope;
        NonCausal = NonCausalTypes.Contains(type);
        HasDynamicResolution = DynamicResolution.Contains(type);
        // LLamaSharp 0.30 passes the text's terminating NUL to mtmd_tokenize, which tokenizes it as a part of its own
        // after the last marker (with special tokens parsed, as Prepare asks): those tokens are dropped again.
        _trailingNul = [.. text.NativeHandle.Tokenize("\0", false, true, System.Text.Encoding.UTF8).Select(t => (int)t)];
    }

    /// <summary>Loads the projector at <paramref name="path"/> for <paramref name="text"/> (their widths must agree).</summary>
    public static MediaProjector Load(string path, LLamaWeights text, int threads)
    {
        var strings = GgufStrings.Read(path);
        var type = strings.GetValueOrDefault("clip.projector_type")
            ?? strings.GetValueOrDefault("clip.vision.projector_type")
            ?? strings.GetValueOrDefault("clip.audio.projector_type")
            ?? "unknown";
        // A marker no user can type: media are placed in the rendered prompt by it, so text that happens to contain
        // mtmd's default marker stays text.
        var marker = $"<__castor_media_{Guid.NewGuid():N}__>";
        var weights = LoadContext(path, text, threads, marker, -1, -1);
        return new MediaProjector(path, type, text, threads, marker, weights);
    }

    private static MtmdWeights LoadContext(string path, LLamaWeights text, int threads, string marker, int minTokens, int maxTokens)
    {
        var parameters = MtmdContextParams.Default();
        // Default() has loaded libmtmd, so its log can be routed before clip starts loading (and printing).
        NativeLogging.RouteMtmd();
        parameters.MediaMarker = marker;
        parameters.NThreads = threads;
        parameters.UseGpu = false;
        parameters.Warmup = false;
        parameters.PrintTimings = false;
        parameters.ImageMinTokens = minTokens;
        parameters.ImageMaxTokens = maxTokens;
        return MtmdWeights.LoadFromFile(path, text, parameters);
    }

    public string Path { get; }

    /// <summary>The GGUF's <c>clip.projector_type</c> (<c>mlp</c>, <c>gemma3</c>, <c>qwen2.5vl_merger</c>, <c>qwen2a</c>, …).</summary>
    public string ProjectorType { get; }

    /// <summary>The text that stands for one media item in a rendered prompt.</summary>
    public string Marker { get; }
    public bool SupportsVision { get; }
    public bool SupportsAudio { get; }

    /// <summary>The sample rate audio must have (0 without audio).</summary>
    public int AudioSampleRate { get; }

    /// <summary>Media advance positions by less than their token count (Qwen-VL's M-RoPE).</summary>
    public bool UsesMRope { get; }

    /// <summary>Image embeddings are decoded with causal attention off (Gemma 3), which mtmd does during the image's step.</summary>
    public bool NonCausal { get; }

    /// <summary>Images cost as many tokens as their size asks, so <see cref="PromptMedia.MaxImageTokens"/> bounds them.</summary>
    public bool HasDynamicResolution { get; }

    /// <summary>
    /// Tokenizes a rendered prompt in which each media item stands as <see cref="Marker"/>, in the order of
    /// <paramref name="media"/>. Throws <see cref="ArgumentException"/> for media the projector cannot take.
    /// <para>
    /// The prompt is laid out as mtmd's own tokenizer does (each stretch of text between markers tokenized alone, each
    /// item's chunks with the text its projector puts around them, BOS first), but each item's layout comes from
    /// <see cref="MediaLayoutCache"/> when the same item was seen lately: then mtmd does not preprocess it here, and
    /// the scheduler prepares it only if its positions are not resident (a follow-up about a resident image never
    /// preprocesses it). An item seen for the first time is prepared here, as its layout is learnt.
    /// </para>
    /// </summary>
    public EnginePrompt Tokenize(string text, bool addSpecial, bool parseSpecial, IReadOnlyList<PromptMedia> media)
    {
        for (var i = 0; i < media.Count; i++) Check(media[i].Media, i);
        var chunks = new List<PromptChunk>();
        var pending = new List<int>();
        void Flush()
        {
            if (pending.Count == 0) return;
            chunks.Add(new TokenRun(pending.ToArray()));
            pending.Clear();
        }

        var at = 0;
        var item = 0;
        while (true)
        {
            var next = text.IndexOf(Marker, at, StringComparison.Ordinal);
            var end = next < 0 ? text.Length : next;
            if (end > at) pending.AddRange(TokenizeText(text[at..end], parseSpecial));
            if (next < 0) break;
            if (item >= media.Count) throw new ArgumentException("The prompt's media do not match its media markers.");
            var (layout, input) = LayoutOf(media[item], item);
            var ordinal = 0;
            foreach (var entry in layout.Entries)
            {
                if (entry.Text is { } tokens)
                {
                    pending.AddRange(tokens);
                    continue;
                }
                Flush();
                chunks.Add(new MediaPlaceholder(media[item].Media.MimeType, HashOf(media[item], ordinal), entry.Positions)
                {
                    Tokens = entry.Tokens,
                    Input = input,
                    InputOrdinal = ordinal,
                    Sliceable = !NonCausal && !UsesMRope && entry.Tokens == entry.Positions && MtmdEncoder.Available,
                });
                ordinal++;
            }
            item++;
            at = next + Marker.Length;
        }
        if (item != media.Count) throw new ArgumentException("The prompt's media do not match its media markers.");
        Flush();

        // mtmd's rules for the special tokens: BOS opens the first text chunk (or a chunk of its own before a leading
        // item), EOS joins the last text chunk (or follows a trailing item).
        var vocab = _text.Vocab;
        if (addSpecial && vocab.ShouldAddBOS && vocab.BOS is { } bos)
        {
            if (chunks.Count > 0 && chunks[0] is TokenRun first) chunks[0] = new TokenRun([(int)bos, .. first.Tokens]);
            else chunks.Insert(0, new TokenRun([(int)bos]));
        }
        if (addSpecial && vocab.ShouldAddEOS && vocab.EOS is { } eos)
        {
            if (chunks.Count > 0 && chunks[^1] is TokenRun last) chunks[^1] = new TokenRun([.. last.Tokens, (int)eos]);
            else chunks.Add(new TokenRun([(int)eos]));
        }
        return new EnginePrompt(chunks);
    }

    /// <summary>Media items mtmd has preprocessed so far (for a new item, or one whose resident copy was gone).</summary>
    public long Preparations => Interlocked.Read(ref _preparations);

    private long _preparations;

    private int[] TokenizeText(string text, bool parseSpecial)
    {
        var tokens = _text.NativeHandle.Tokenize(text, false, parseSpecial, System.Text.Encoding.UTF8);
        var result = new int[tokens.Length];
        for (var i = 0; i < tokens.Length; i++) result[i] = (int)tokens[i];
        return result;
    }

    /// <summary>
    /// The layout of <paramref name="item"/> and its projector input: from the cache without preparing anything, or
    /// learnt by preparing the item (whose chunks are then kept for the scheduler).
    /// </summary>
    private (MediaLayout Layout, MediaInput Input) LayoutOf(PromptMedia item, int index)
    {
        var weights = ContextFor(item.MaxImageTokens);
        var key = LayoutKey(item, weights);
        if (_layouts.Get(key) is { } known)
        {
            return (known, new MediaInput(weights.NativeHandle, () =>
            {
                var (again, chunks) = Prepare(weights, item, index);
                if (!again.Entries.SequenceEqual(known.Entries, LayoutEntryComparer.Instance))
                    throw new InvalidOperationException($"Media item {index} was laid out differently when prepared again.");
                return chunks;
            }));
        }
        var (layout, prepared) = Prepare(weights, item, index);
        _layouts.Put(key, layout);
        return (layout, new MediaInput(weights.NativeHandle, prepared));
    }

    /// <summary>
    /// The cache key: everything the layout depends on. The content hash alone names the pixels or samples; their size
    /// and the item's kind are added so that no two items that differ in anything mtmd reads share an entry, and the
    /// projector context (its image token limit) because it decides the image's size.
    /// </summary>
    private string LayoutKey(PromptMedia item, MtmdWeights weights)
    {
        var shape = item.Media switch
        {
            DecodedImage image => $"image:{image.Width}x{image.Height}",
            DecodedAudio audio => $"audio:{audio.Samples.Length}@{audio.SampleRate}",
            _ => item.Media.GetType().Name,
        };
        var context = ReferenceEquals(weights, _default) ? 0 : item.MaxImageTokens ?? 0;
        return $"{Convert.ToHexString(item.Media.ContentHash)}|{shape}|{context}";
    }

    /// <summary>Runs mtmd on the item alone (its marker and nothing else): its layout and its chunks (owned copies).</summary>
    private (MediaLayout Layout, SafeMtmdInputChunk[] Chunks) Prepare(MtmdWeights weights, PromptMedia item, int index)
    {
        Interlocked.Increment(ref _preparations);
        using var embed = item.Media switch
        {
            DecodedImage image => SafeMtmdEmbed.FromRgbBytes((uint)image.Width, (uint)image.Height, image.Rgb),
            DecodedAudio audio => SafeMtmdEmbed.FromAudioSamples(audio.Samples),
            _ => null,
        } ?? throw new InvalidOperationException($"The projector could not take media item {index}.");
        SafeMtmdInputChunks? chunks = null;
        int rc;
        lock (_gate) rc = weights.Tokenize(Marker, false, true, [embed], out chunks);
        if (rc != 0 || chunks is null)
            throw new ArgumentException(rc == 1
                ? "The prompt's media do not match its media markers."
                : $"The projector could not prepare media item {index} (mtmd error {rc}).");
        using (chunks)
        {
            var entries = new List<MediaLayout.Entry>();
            var copies = new List<SafeMtmdInputChunk>();
            foreach (var chunk in chunks.Enumerate())
            {
                using (chunk)
                {
                    if (chunk.Type == SafeMtmdInputChunk.SafeMtmdInputChunkType.Text)
                    {
                        var span = chunk.GetTextTokensSpan();
                        var tokens = new int[span.Length];
                        for (var k = 0; k < tokens.Length; k++) tokens[k] = span[k];
                        if (tokens.Length > 0) entries.Add(new MediaLayout.Entry(tokens, 0, 0));
                    }
                    else
                    {
                        copies.Add(chunk.Copy() ?? throw new InvalidOperationException("mtmd could not copy a media chunk."));
                        entries.Add(new MediaLayout.Entry(null, (int)chunk.NTokens, (int)chunk.NPos));
                    }
                }
            }
            // LLamaSharp 0.30 passes the text's terminating NUL to mtmd_tokenize: the marker alone is followed by the
            // tokens of "\0", which belong to no prompt.
            if (entries.Count > 0 && entries[^1].Text is { } tail && _trailingNul.Length > 0 && tail.AsSpan().EndsWith(_trailingNul))
            {
                if (tail.Length == _trailingNul.Length) entries.RemoveAt(entries.Count - 1);
                else entries[^1] = new MediaLayout.Entry(tail[..^_trailingNul.Length], 0, 0);
            }
            return (new MediaLayout(entries), [.. copies]);
        }
    }

    private sealed class LayoutEntryComparer : IEqualityComparer<MediaLayout.Entry>
    {
        public static readonly LayoutEntryComparer Instance = new();

        public bool Equals(MediaLayout.Entry a, MediaLayout.Entry b) =>
            a.Tokens == b.Tokens && a.Positions == b.Positions
            && (a.Text is null ? b.Text is null : b.Text is not null && a.Text.AsSpan().SequenceEqual(b.Text));

        public int GetHashCode(MediaLayout.Entry e) => HashCode.Combine(e.Tokens, e.Positions, e.Text?.Length);
    }

    private void Check(DecodedMedia media, int index)
    {
        switch (media)
        {
            case DecodedImage image:
                if (!SupportsVision) throw new ArgumentException($"Media item {index} is an image ({image.MimeType}), and this model's projector takes no images.");
                if (image.Width <= 0 || image.Height <= 0 || image.Rgb.Length != image.Width * image.Height * 3)
                    throw new ArgumentException($"Media item {index} is not a {image.Width}×{image.Height} RGB image.");
                break;
            case DecodedAudio audio:
                if (!SupportsAudio) throw new ArgumentException($"Media item {index} is audio ({audio.MimeType}), and this model's projector takes no audio.");
                if (audio.SampleRate != AudioSampleRate)
                    throw new ArgumentException($"Media item {index} is sampled at {audio.SampleRate} Hz; this projector takes {AudioSampleRate} Hz.");
                if (audio.Samples.Length == 0) throw new ArgumentException($"Media item {index} is empty audio.");
                break;
            default:
                throw new ArgumentException($"Media item {index} is a {media.GetType().Name}, which no projector takes.");
        }
    }

    private MtmdWeights ContextFor(int? maxImageTokens)
    {
        if (!HasDynamicResolution || maxImageTokens is not { } max) return _default;
        lock (_gate)
        {
            if (!_byResolution.TryGetValue(max, out var weights))
            {
                weights = LoadContext(Path, _text, _threads, Marker, -1, max);
                _byResolution[max] = weights;
            }
            return weights;
        }
    }

    /// <summary>
    /// The prefix key of one media chunk: the item's content hash, the image token limit it was prepared with, and which of the
    /// item's chunks it is (long audio comes in several).
    /// </summary>
    private static ulong HashOf(PromptMedia item, int ordinal)
    {
        var content = item.Media.ContentHash;
        var hash = content.Length >= 8 ? BinaryPrimitives.ReadUInt64LittleEndian(content) : 0x9E3779B97F4A7C15UL;
        for (var i = 8; i < content.Length; i++) hash = (hash ^ content[i]) * 0x100000001B3UL;
        hash ^= (ulong)(item.MaxImageTokens ?? 0) * 0xD1B54A32D192ED03UL;
        hash ^= (ulong)(ordinal + 1) * 0x94D049BB133111EBUL;
        return hash;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var weights in _byResolution.Values) weights.Dispose();
            _byResolution.Clear();
        }
        _default.Dispose();
    }
}
