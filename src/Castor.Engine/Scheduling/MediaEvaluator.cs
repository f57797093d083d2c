using System.Reflection;
using Castor.Engine.Media;
using LLama.Native;

namespace Castor.Engine.Scheduling;

/// <summary>
/// The scheduler's media steps. A media item of a prompt is encoded by its projector as a step of its own, then its
/// embeddings are decoded into the request's sequence at its next positions in slices of <see cref="SliceSize"/>, each
/// a step of its own between other sequences' decode batches, so a long image costs a stream many short waits instead of
/// one long one. Items that must be decoded whole (Gemma 3's bidirectional image attention, M-RoPE's 2-D positions) go
/// through mtmd's helper in one step, which switches causal attention off and on around the item itself.
/// It serves the longest-waiting sequence whose prompt has reached a media item.
/// </summary>
internal sealed class MediaEvaluator(SafeLLamaContextHandle context, SlotTable slots, int batchSize, int width)
{
    /// <summary>Positions decoded in one slice step.</summary>
    public const int SliceSize = 32;

    // LLamaSharp's lock around every llama_decode: mtmd decodes outside DecodeBatch, and must stay serialised with
    // other contexts' decodes just the same.
    private static readonly object InferenceLock =
        typeof(SafeLLamaContextHandle).GetField("GlobalInferenceLock", BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null)
        ?? new object();

    private readonly LLamaBatchEmbeddings _slice = new(width);

    /// <summary>What one media step did.</summary>
    public enum Outcome
    {
        Failed,
        InProgress,
        Done,
    }

    /// <summary>The sequence that waits longest at a media item of its prompt, and that item; null when none does.</summary>
    public (Sequence Sequence, MediaPlaceholder Media)? Next()
    {
        (Sequence, MediaPlaceholder)? best = null;
        long bestUsed = long.MaxValue;
        foreach (var slot in slots.All)
        {
            if (slot.Active is not { State: SequenceState.Prefill } seq) continue;
            if (seq.Job.MediaAt(seq.PromptOffset) is not { } media) continue;
            if (slot.LastUsed < bestUsed) (best, bestUsed) = ((seq, media), slot.LastUsed);
        }
        return best;
    }

    /// <summary>
    /// Where the last <see cref="Outcome.Done"/> step with logits left them: the index of the item's last embedding in
    /// that step's batch (llama.cpp reads logits by batch index, not by output).
    /// </summary>
    public int LogitIndex { get; private set; }

    /// <summary>
    /// One step of <paramref name="media"/> into <paramref name="seq"/>'s slot: the encode, or the next slice, or the
    /// whole item through mtmd's helper. With <paramref name="logits"/> the item ends the prompt, and once it is
    /// <see cref="Outcome.Done"/> its last embedding's logits are at <see cref="LogitIndex"/>. A failure leaves the slot
    /// holding only what it held before the item.
    /// </summary>
    public Outcome Step(Sequence seq, MediaPlaceholder media, bool logits)
    {
        if (media.Input is not { } input)
            throw new InvalidOperationException("A media placeholder without a projector's input cannot be evaluated.");
        SafeMtmdInputChunk chunk;
        try
        {
            // An item whose layout was known arrives unprepared: its pixels or samples are preprocessed here, once
            // its positions turned out not to be resident (this step's time counts against the media share).
            chunk = input.Chunk(media.InputOrdinal);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            return Outcome.Failed;
        }
        var encoder = input.Encoder;
        if (!media.Sliceable) return Whole(seq, media, chunk, encoder, logits);

        if (seq.MediaEmbeddings is null)
        {
            seq.MediaEmbeddings = MtmdEncoder.Run(encoder, chunk, media.Tokens, width);
            seq.MediaDone = 0;
            return seq.MediaEmbeddings is null ? Outcome.Failed : Outcome.InProgress;
        }

        var slot = seq.Slot;
        var count = Math.Min(SliceSize, media.Positions - seq.MediaDone);
        var position = slot.Resident.Count;
        var last = seq.MediaDone + count == media.Positions;
        _slice.Clear();
        for (var i = 0; i < count; i++)
            _slice.Add(seq.MediaEmbeddings.AsSpan((seq.MediaDone + i) * width, width), position + i, slot.Id, logits && last && i == count - 1);
        DecodeResult result;
        lock (InferenceLock) result = context.Decode(_slice);
        if (result != DecodeResult.Ok)
        {
            Abandon(seq);
            return Outcome.Failed;
        }
        for (var i = 0; i < count; i++) slot.Resident.Add(PrefixMatcher.MediaKey(media.Hash, seq.MediaDone + i));
        seq.MediaDone += count;
        if (!last) return Outcome.InProgress;
        seq.MediaEmbeddings = null;
        seq.MediaDone = 0;
        seq.PromptOffset += media.Positions;
        LogitIndex = count - 1;
        return Outcome.Done;
    }

    private Outcome Whole(Sequence seq, MediaPlaceholder media, SafeMtmdInputChunk chunk, SafeMtmdModelHandle encoder, bool logits)
    {
        // mtmd's helper asks for no logits of a media item's embeddings, so a prompt cannot end with one that goes
        // whole. Gemma 3 and Qwen-VL close their images with a text marker, so their prompts never do.
        if (logits) return Outcome.Failed;
        var slot = seq.Slot;
        var start = slot.Resident.Count;
        var next = start;
        int rc;
        lock (InferenceLock)
            rc = encoder.EvaluateChunk(chunk.NativePtr, context, ref next, slot.Id.Value, batchSize, logits);
        if (rc != 0 || next - start != media.Positions)
        {
            context.MemorySequenceRemove(slot.Id, start, -1);
            return Outcome.Failed;
        }
        for (var i = 0; i < media.Positions; i++) slot.Resident.Add(PrefixMatcher.MediaKey(media.Hash, i));
        seq.PromptOffset += media.Positions;
        return Outcome.Done;
    }

    /// <summary>Takes a half-decoded item back out of the slot: its positions are not a prefix of anything.</summary>
    private void Abandon(Sequence seq)
    {
        var slot = seq.Slot;
        var start = slot.Resident.Count - seq.MediaDone;
        context.MemorySequenceRemove(slot.Id, start, -1);
        slot.Resident.RemoveRange(start, seq.MediaDone);
        seq.MediaEmbeddings = null;
        seq.MediaDone = 0;
    }
}
