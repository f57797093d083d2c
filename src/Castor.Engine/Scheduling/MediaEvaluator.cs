using System.Reflection;
using LLama.Native;

namespace Castor.Engine.Scheduling;

/// <summary>
/// The scheduler's media step: encodes one media item of a prompt (through mtmd's helper, which runs the projector and
/// decodes the embeddings into the sequence itself) as an exclusive step between decode batches. It picks the
/// longest-waiting sequence whose prompt has reached a media item; the item's positions follow the sequence's resident
/// ones (M-RoPE projectors advance by <see cref="MediaPlaceholder.Positions"/>, not by tokens), and Gemma 3's
/// non-causal image attention is switched on and off by mtmd around the item.
/// </summary>
internal sealed class MediaEvaluator(SafeLLamaContextHandle context, SlotTable slots, int batchSize)
{
    // LLamaSharp's lock around every llama_decode: mtmd decodes outside DecodeBatch, and must stay serialised with
    // other contexts' decodes just the same.
    private static readonly object InferenceLock =
        typeof(SafeLLamaContextHandle).GetField("GlobalInferenceLock", BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null)
        ?? new object();

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
    /// Encodes <paramref name="media"/> into <paramref name="seq"/>'s slot at its next position. True when its positions
    /// are resident; with <paramref name="logits"/> the item ends the prompt and its last embedding's logits are at
    /// output 0. On failure the slot keeps only what it held before.
    /// </summary>
    public bool Evaluate(Sequence seq, MediaPlaceholder media, bool logits)
    {
        if (media.Encoded is not { } chunk || media.Encoder is not { } encoder)
            throw new InvalidOperationException("A media placeholder without a projector's input cannot be evaluated.");
        var slot = seq.Slot;
        var start = slot.Resident.Count;
        var next = start;
        int rc;
        lock (InferenceLock)
            rc = encoder.EvaluateChunk(chunk.NativePtr, context, ref next, slot.Id.Value, batchSize, logits);
        if (rc != 0 || next - start != media.Positions)
        {
            context.MemorySequenceRemove(slot.Id, start, -1);
            return false;
        }
        for (var i = 0; i < media.Positions; i++) slot.Resident.Add(PrefixMatcher.MediaKey(media.Hash, i));
        seq.PromptOffset += media.Positions;
        return true;
    }
}
