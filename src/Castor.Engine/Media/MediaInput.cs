using LLama.Native;

namespace Castor.Engine.Media;

/// <summary>
/// A media item's prepared input for its projector (mtmd's preprocessed chunks, owned copies) and the projector context
/// that encodes them. An item whose layout was known needs no preparing to be counted or prefix-matched, so it is
/// prepared only when its positions must really be evaluated (not resident, or evicted between count and use), on first
/// use; an item seen for the first time was prepared while its layout was learnt.
/// </summary>
internal sealed class MediaInput
{
    private readonly Func<SafeMtmdInputChunk[]>? _prepare;
    private readonly Lock _gate = new();
    private SafeMtmdInputChunk[]? _chunks;

    /// <summary>An input prepared already.</summary>
    public MediaInput(SafeMtmdModelHandle encoder, SafeMtmdInputChunk[] chunks)
    {
        Encoder = encoder;
        _chunks = chunks;
    }

    /// <summary>An input that <paramref name="prepare"/> makes on first use.</summary>
    public MediaInput(SafeMtmdModelHandle encoder, Func<SafeMtmdInputChunk[]> prepare)
    {
        Encoder = encoder;
        _prepare = prepare;
    }

    /// <summary>The projector context that prepared (or will prepare) the chunks and encodes them.</summary>
    public SafeMtmdModelHandle Encoder { get; }

    public bool IsPrepared => Volatile.Read(ref _chunks) is not null;

    /// <summary>
    /// The item's media chunk number <paramref name="ordinal"/>, prepared now if it was not. Throws when the projector
    /// cannot prepare it, or prepares something other than the layout the prompt was counted with.
    /// </summary>
    public SafeMtmdInputChunk Chunk(int ordinal)
    {
        var chunks = Volatile.Read(ref _chunks);
        if (chunks is null)
        {
            lock (_gate)
            {
                chunks = _chunks ??= (_prepare ?? throw new InvalidOperationException("A media input has neither chunks nor a way to prepare them."))();
            }
        }
        return ordinal < chunks.Length ? chunks[ordinal] : throw new InvalidOperationException($"The media item has no chunk {ordinal}.");
    }
}
