using Castor.Engine.Media;

namespace Castor.Engine.Scheduling;

/// <summary>
/// A media item (an image, an audio clip) inside a prompt: <see cref="Length"/> KV positions that its encoder's
/// embeddings fill. <see cref="Hash"/> identifies the content (a hash of its bytes and the encoder settings), so a
/// resident copy of the same item is reused as a whole by prefix matching, and never in part: a half-evaluated
/// image is not a prefix of anything.
/// <para>
/// <see cref="Tokens"/> is what the item costs (embeddings the model attends to, as usage reports them); it exceeds
/// <see cref="Positions"/> for projectors with M-RoPE (Qwen-VL), whose image advances the position by less than its
/// token count. A placeholder made by a projector carries its input (<see cref="Input"/>, prepared at once or on first
/// use); one without it can be matched but not evaluated.
/// </para>
/// </summary>
public sealed record MediaPlaceholder(string MimeType, ulong Hash, int Positions) : PromptChunk
{
    public override int Length => Positions;

    /// <summary>Embeddings the item puts in the KV cache, as the API counts its tokens.</summary>
    public int Tokens { get; init; } = Positions;

    public MediaModality Modality { get; init; } =
        MimeType.StartsWith("audio/", StringComparison.OrdinalIgnoreCase) ? MediaModality.Audio : MediaModality.Image;

    /// <summary>The projector's input for the item this chunk belongs to, which the scheduler encodes into a sequence.</summary>
    internal MediaInput? Input { get; init; }

    /// <summary>Which of the item's media chunks this is (long audio comes in several).</summary>
    internal int InputOrdinal { get; init; }

    /// <summary>
    /// Its embeddings may be decoded in slices, as steps of their own: causal attention and one position a token (not
    /// Gemma 3's bidirectional image attention, which needs the whole image in one batch, nor M-RoPE's 2-D positions).
    /// </summary>
    internal bool Sliceable { get; init; }
}
