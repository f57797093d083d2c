using System.Runtime.InteropServices;
using LLama.Native;

namespace Castor.Engine.Scheduling;

/// <summary>
/// The prompts the slots keep resident after their requests end, and the KV operations on them: a new request starts
/// from the slot whose resident positions share the longest prefix with its prompt, or copies that prefix from a busy
/// slot. Prefixes are only reused within one <see cref="EngineRequest.PrefixPartition"/>.
/// </summary>
internal sealed class PrefixCache(SafeLLamaContextHandle context, SlotTable slots)
{
    /// <summary>
    /// Picks the slot that will hold <paramref name="prompt"/> (it must be free), leaves in it the longest reusable
    /// prefix and returns how many positions that is. At least the prompt's last position is left to decode: its
    /// logits start generation.
    /// </summary>
    public (Slot Slot, int Reused) Claim(EnginePrompt prompt, long[] keys, string partition)
    {
        var limit = prompt.Length - 1;
        Slot? bestAny = null, bestFree = null;
        int bestAnyLength = 0, bestFreeLength = 0;
        foreach (var slot in slots.All)
        {
            if (!string.Equals(slot.Partition, partition, StringComparison.Ordinal)) continue;
            // Matched against all but the last position, so a prompt that ends with a media item and is resident
            // whole gets the item back whole (cut to its start), never cut inside it.
            var length = PrefixMatcher.CommonPrefix(CollectionsMarshal.AsSpan(slot.Resident), prompt, keys.AsSpan(0, limit));
            if (length > bestAnyLength) (bestAny, bestAnyLength) = (slot, length);
            if (slot.Active is null && length > bestFreeLength) (bestFree, bestFreeLength) = (slot, length);
        }

        if (bestAny is { Active: not null } && bestAnyLength > bestFreeLength)
        {
            // The prefix is resident in a busy sequence: share it with a free slot.
            var slot = slots.LeastRecentlyUsedFree();
            CopyPrefix(bestAny, slot, bestAnyLength);
            return (slot, bestAnyLength);
        }
        if (bestFree is not null)
        {
            Truncate(bestFree, bestFreeLength);
            return (bestFree, bestFreeLength);
        }
        var fresh = slots.LeastRecentlyUsedFree();
        Clear(fresh);
        return (fresh, 0);
    }

    /// <summary>
    /// Gives <paramref name="to"/> the first <paramref name="length"/> positions of <paramref name="from"/> (all of
    /// them for -1). The whole sequence is copied and then cut: a unified cache shares the cells either way, and a cache
    /// with one stream per sequence copies only whole streams.
    /// </summary>
    public void CopyPrefix(Slot from, Slot to, int length)
    {
        Clear(to);
        context.MemorySequenceCopy(from.Id, to.Id, 0, -1);
        to.Resident.AddRange(from.Resident);
        if (length >= 0 && length < to.Resident.Count) Truncate(to, length);
    }

    public void Clear(Slot slot)
    {
        context.MemorySequenceRemove(slot.Id, -1, -1);
        slot.Resident.Clear();
    }

    public void Truncate(Slot slot, int keep)
    {
        context.MemorySequenceRemove(slot.Id, keep, -1);
        slot.Resident.RemoveRange(keep, slot.Resident.Count - keep);
    }

    /// <summary>Drops the resident prefixes of idle slots (of one partition, or all); returns the positions freed.</summary>
    public int ReleaseIdle(string? partition)
    {
        var freed = 0;
        foreach (var slot in slots.All)
        {
            if (slot.Active is not null || slot.Resident.Count == 0) continue;
            if (partition is not null && !string.Equals(slot.Partition, partition, StringComparison.Ordinal)) continue;
            freed += slot.Resident.Count;
            Clear(slot);
        }
        return freed;
    }

    /// <summary>After a failed decode the cache's contents are unknown: start clean.</summary>
    public void Reset()
    {
        context.MemoryClear(true);
        foreach (var slot in slots.All) slot.Resident.Clear();
    }
}
