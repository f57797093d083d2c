using System.Runtime.InteropServices;
using LLama.Native;

namespace Castor.Engine.Scheduling;

/// <summary>
/// Snapshot save and restore, the two KV steps cached contents need; both run on the scheduler thread (save as a
/// <see cref="SaveSnapshotCommand"/>, restore when a generation that carries a snapshot starts).
/// </summary>
internal sealed unsafe class SnapshotSteps(SafeLLamaContextHandle context, SlotTable slots, PrefixCache prefixes, int batchSize)
{
    private long _restored;
    private long _restoredTokens;
    private long _restoreFailures;

    /// <summary>Snapshots restored into a sequence, the tokens they made resident, and those llama.cpp refused.</summary>
    public long Restored => Interlocked.Read(ref _restored);
    public long RestoredTokens => Interlocked.Read(ref _restoredTokens);
    public long RestoreFailures => Interlocked.Read(ref _restoreFailures);

    /// <summary>Decodes what of <paramref name="tokens"/> is not resident yet in a free sequence and saves its state; false when no sequence is free.</summary>
    public bool TrySave(IReadOnlyList<int> tokens, string partition, out PrefixSnapshot? snapshot)
    {
        snapshot = null;
        if (tokens.Count == 0) throw new ArgumentException("A snapshot needs at least one token.", nameof(tokens));
        if (slots.FreeCount == 0) return false;
        var prompt = EnginePrompt.FromTokens(tokens);
        var (slot, reused) = prefixes.Claim(prompt, PrefixMatcher.Keys(prompt), partition);
        slot.Partition = partition;
        var batch = new DecodeBatch(batchSize);
        var position = reused;
        while (position < tokens.Count)
        {
            batch.Clear();
            var start = position;
            while (batch.TokenCount < batch.Capacity && position < tokens.Count)
            {
                batch.Add((LLamaToken)tokens[position], position, slot.Id, logits: false);
                position++;
            }
            var result = batch.DecodeWith(context);
            if (result != DecodeResult.Ok)
            {
                prefixes.Clear(slot);
                throw new InvalidOperationException($"llama.cpp could not decode the prefix ({result}).");
            }
            for (var i = start; i < position; i++) slot.Resident.Add(tokens[i]);
        }

        var size = context.GetStateSize(slot.Id);
        var state = new byte[(int)size];
        nuint written;
        fixed (byte* p = state)
            written = context.GetState(p, size, slot.Id);
        if (written != size) Array.Resize(ref state, (int)written);
        snapshot = new PrefixSnapshot(tokens.ToArray(), state);
        return true;
    }

    /// <summary>
    /// Before a generation claims its sequence: when the snapshot covers more of its prompt than any resident prefix
    /// of the partition, restores it into the least recently used free sequence (cut to the part the prompt shares), so
    /// the claim finds it there like any resident prefix. A state llama.cpp refuses leaves the sequence empty and the
    /// prompt is computed in full.
    /// </summary>
    public void RestoreIfUseful(PrefixSnapshot snapshot, EnginePrompt prompt, long[] promptKeys, string partition)
    {
        var snapshotKeys = new long[snapshot.Tokens.Count];
        for (var i = 0; i < snapshotKeys.Length; i++) snapshotKeys[i] = snapshot.Tokens[i];
        var usable = Math.Min(prompt.Length - 1, PrefixMatcher.CommonPrefix(snapshotKeys, prompt, promptKeys));
        if (usable <= 0) return;
        foreach (var resident in slots.All)
        {
            if (!string.Equals(resident.Partition, partition, StringComparison.Ordinal)) continue;
            if (PrefixMatcher.CommonPrefix(CollectionsMarshal.AsSpan(resident.Resident), prompt, promptKeys) >= usable) return;
        }

        var slot = slots.LeastRecentlyUsedFree();
        prefixes.Clear(slot);
        nuint read;
        fixed (byte* p = snapshot.State)
            read = context.SetState(p, (nuint)snapshot.State.Length, slot.Id);
        if (read == 0)
        {
            Interlocked.Increment(ref _restoreFailures);
            prefixes.Clear(slot);
            return;
        }
        slot.Partition = partition;
        slot.Resident.AddRange(snapshotKeys);
        if (usable < snapshotKeys.Length) prefixes.Truncate(slot, usable);
        Interlocked.Increment(ref _restored);
        Interlocked.Add(ref _restoredTokens, usable);
    }
}
