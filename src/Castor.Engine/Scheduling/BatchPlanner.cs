using LLama.Native;

namespace Castor.Engine.Scheduling;

/// <summary>
/// Fills one decode batch: every generating sequence's last token first, then the pending prompts share what is left of
/// the batch, the longest-waiting first, so a long prompt cannot stall other streams; batch-priority sequences sit out
/// the steps that compute an interactive prompt. After the decode,
/// <see cref="Commit"/> records what the batch put in the cache. Its working arrays are sized once: planning a step
/// allocates nothing.
/// </summary>
internal sealed class BatchPlanner(SlotTable slots, int batchSize)
{
    private readonly Sequence[] _prefills = new Sequence[slots.Count];
    private readonly Sequence[] _ready = new Sequence[slots.Count];

    /// <summary>The planned batch holds batch-priority work only: interactive work arriving may abort it (<see cref="StepAbort"/>).</summary>
    public bool OnlyBatchWork { get; private set; }

    /// <summary>Fills <paramref name="batch"/>; every active sequence's <c>LogitIndex</c> and <c>Pending</c> are set.</summary>
    public void Plan(DecodeBatch batch)
    {
        batch.Clear();
        OnlyBatchWork = true;
        var budget = batchSize;
        var prefills = 0;
        // Batch sequences yield while an interactive prompt is computed: that step holds the interactive prompt alone
        // (and other interactive work), so its first token costs what it costs on an idle server, not a step widened by
        // batch decodes and batch prompts. Batch work loses one step per interactive prompt chunk.
        var interactivePrompt = false;
        foreach (var slot in slots.All)
        {
            if (slot.Active is { State: SequenceState.Prefill } waiting && waiting.Job.Priority == EnginePriority.Interactive)
            {
                interactivePrompt = true;
                break;
            }
        }
        foreach (var slot in slots.All)
        {
            if (slot.Active is not { } seq) continue;
            if (seq.State == SequenceState.Prefill)
            {
                InsertByLastUsed(seq, prefills++);
                continue;
            }
            if (seq.State != SequenceState.Decoding) continue;
            seq.LogitIndex = -1;
            seq.Pending = 0;
            if (budget == 0 || (interactivePrompt && seq.Job.Priority == EnginePriority.Batch)) continue;
            seq.LogitIndex = batch.TokenCount;
            batch.Add(seq.LastToken, slot.Resident.Count, slot.Id, true);
            seq.Pending = 1;
            budget--;
            if (seq.Job.Priority != EnginePriority.Batch) OnlyBatchWork = false;
        }

        for (var i = 0; i < prefills; i++)
        {
            var seq = _prefills[i];
            _prefills[i] = null!;
            seq.LogitIndex = -1;
            seq.Pending = 0;
            if (budget == 0 || (interactivePrompt && seq.Job.Priority == EnginePriority.Batch)) continue;
            var keys = seq.PrefillKeys;
            // Text stops at a media item: that is a step of its own (MediaEvaluator). A replay has none (only text-only
            // prompts are preempted).
            var end = seq.ReplayKeys is null ? seq.Job.NextMediaStart(seq.PromptOffset) : keys.Length;
            var count = Math.Min(budget, end - seq.PromptOffset);
            if (count == 0) continue;
            if (seq.Job.Priority != EnginePriority.Batch) OnlyBatchWork = false;
            var position = seq.Slot.Resident.Count;
            for (var k = 0; k < count; k++)
            {
                var last = seq.PromptOffset + k == keys.Length - 1;
                if (last) seq.LogitIndex = batch.TokenCount;
                batch.Add((LLamaToken)(int)keys[seq.PromptOffset + k], position + k, seq.Slot.Id, last);
            }
            seq.Pending = count;
            budget -= count;
        }
    }

    /// <summary>Oldest first (insertion sort into a fixed array: at most one entry per slot).</summary>
    private void InsertByLastUsed(Sequence seq, int count)
    {
        var at = count;
        while (at > 0 && _prefills[at - 1].Slot.LastUsed > seq.Slot.LastUsed)
        {
            _prefills[at] = _prefills[at - 1];
            at--;
        }
        _prefills[at] = seq;
    }

    /// <summary>
    /// The batch was decoded: the slots now hold its positions. Returns the prompt positions computed, and in
    /// <paramref name="ready"/> the sequences whose logits came out (collected before any is handled: completing a
    /// prompt starts its forked candidates, which must not be sampled twice).
    /// </summary>
    public int Commit(out ReadOnlySpan<Sequence> ready)
    {
        var computed = 0;
        var count = 0;
        foreach (var slot in slots.All)
        {
            if (slot.Active is not { } seq) continue;
            if (seq.Pending > 0)
            {
                if (seq.State == SequenceState.Decoding)
                {
                    slot.Resident.Add((int)seq.LastToken);
                }
                else
                {
                    var keys = seq.PrefillKeys;
                    for (var k = 0; k < seq.Pending; k++) slot.Resident.Add(keys[seq.PromptOffset + k]);
                    seq.PromptOffset += seq.Pending;
                    computed += seq.Pending;
                }
            }
            if (seq.LogitIndex >= 0) _ready[count++] = seq;
        }
        ready = _ready.AsSpan(0, count);
        return computed;
    }
}
