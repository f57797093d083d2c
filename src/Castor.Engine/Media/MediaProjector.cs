using System.Buffers.Binary;
using System.Globalization;
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
    private readonly LLamaToken? _trailingNul;

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
        // LLamaSharp 0.30 passes the prompt's terminating NUL to mtmd_tokenize, which tokenizes it: the last text
        // chunk ends with the tokens of "\0", whose last one is dropped again (see Tokenize).
        var nul = text.NativeHandle.Tokenize("\0", false, false, System.Text.Encoding.UTF8);
        _trailingNul = nul.Length > 0 ? nul[^1] : null;
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
    /// </summary>
    public EnginePrompt Tokenize(string text, bool addSpecial, bool parseSpecial, IReadOnlyList<PromptMedia> media)
    {
        for (var i = 0; i < media.Count; i++) Check(media[i].Media, i);
        var main = TokenizeWith(_default, text, addSpecial, parseSpecial, media, 0);
        var result = new List<PromptChunk>(main.Count);
        foreach (var item in main)
        {
            // Items asking for another resolution are prepared again by that resolution's context.
            if (item.Media is { } index && ContextFor(media[index].MaxImageTokens) is { } other && other != _default)
            {
                if (item.Ordinal == 0)
                    foreach (var again in TokenizeWith(other, Marker, false, false, [media[index]], index))
                        if (again.Media is not null) result.Add(again.Chunk);
                continue;
            }
            result.Add(item.Chunk);
        }
        return new EnginePrompt(result);
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

    private MtmdWeights? ContextFor(int? maxImageTokens)
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

    private readonly record struct Prepared(PromptChunk Chunk, int? Media, int Ordinal);

    private List<Prepared> TokenizeWith(MtmdWeights weights, string text, bool addSpecial, bool parseSpecial, IReadOnlyList<PromptMedia> media, int firstIndex)
    {
        var embeds = new SafeMtmdEmbed[media.Count];
        try
        {
            for (var i = 0; i < media.Count; i++)
            {
                embeds[i] = media[i].Media switch
                {
                    DecodedImage image => SafeMtmdEmbed.FromRgbBytes((uint)image.Width, (uint)image.Height, image.Rgb),
                    DecodedAudio audio => SafeMtmdEmbed.FromAudioSamples(audio.Samples),
                    _ => null,
                } ?? throw new InvalidOperationException($"The projector could not take media item {firstIndex + i}.");
                // The chunk id says which item a media chunk came from (the same picture twice is two items).
                embeds[i].Id = (firstIndex + i).ToString(CultureInfo.InvariantCulture);
            }

            SafeMtmdInputChunks? chunks = null;
            int rc;
            lock (_gate) rc = weights.Tokenize(text, addSpecial, parseSpecial, embeds, out chunks);
            if (rc != 0 || chunks is null)
                throw new ArgumentException(rc == 1
                    ? "The prompt's media do not match its media markers."
                    : $"The projector could not prepare the prompt's media (mtmd error {rc}).");
            using (chunks)
            {
                var result = new List<Prepared>((int)chunks.Size);
                var last = (int)chunks.Size - 1;
                var ordinals = new Dictionary<int, int>();
                var at = 0;
                foreach (var chunk in chunks.Enumerate())
                {
                    using (chunk)
                    {
                        if (chunk.Type == SafeMtmdInputChunk.SafeMtmdInputChunkType.Text)
                        {
                            var span = chunk.GetTextTokensSpan();
                            var count = span.Length;
                            if (at == last && count > 0 && _trailingNul is { } nul && span[count - 1] == nul) count--;
                            var tokens = new int[count];
                            for (var k = 0; k < count; k++) tokens[k] = span[k];
                            if (count > 0) result.Add(new Prepared(new TokenRun(tokens), null, 0));
                        }
                        else
                        {
                            var index = int.Parse(chunk.Id ?? "", NumberStyles.None, CultureInfo.InvariantCulture);
                            var ordinal = ordinals.GetValueOrDefault(index);
                            ordinals[index] = ordinal + 1;
                            var item = media[index - firstIndex];
                            var copy = chunk.Copy() ?? throw new InvalidOperationException("mtmd could not copy a media chunk.");
                            result.Add(new Prepared(new MediaPlaceholder(item.Media.MimeType, HashOf(item, ordinal), (int)chunk.NPos)
                            {
                                Tokens = (int)chunk.NTokens,
                                Encoded = copy,
                                Encoder = weights.NativeHandle,
                                Sliceable = !NonCausal && !UsesMRope && (long)chunk.NTokens == chunk.NPos && MtmdEncoder.Available,
                            }, index, ordinal));
                        }
                    }
                    at++;
                }
                return result;
            }
        }
        finally
        {
            foreach (var embed in embeds) embed?.Dispose();
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
