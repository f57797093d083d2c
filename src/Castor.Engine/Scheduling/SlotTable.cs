namespace Castor.Engine.Scheduling;

/// <summary>The model's llama sequences, busy or idle, and which idle one to hand out next.</summary>
internal sealed class SlotTable
{
    private readonly Slot[] _slots;
    private long _tick;

    public SlotTable(int count)
    {
        _slots = new Slot[count];
        for (var i = 0; i < count; i++) _slots[i] = new Slot((LLama.Native.LLamaSeqId)i);
    }

    public ReadOnlySpan<Slot> All => _slots;
    public int Count => _slots.Length;

    /// <summary>Slots running a sequence now (read from any thread: a plain loop, no allocation).</summary>
    public int ActiveCount
    {
        get
        {
            var n = 0;
            foreach (var slot in _slots)
                if (slot.Active is not null) n++;
            return n;
        }
    }

    public int FreeCount => _slots.Length - ActiveCount;

    /// <summary>The idle slot used longest ago: its resident prefix is the least likely to be asked for again.</summary>
    public Slot LeastRecentlyUsedFree()
    {
        Slot? best = null;
        foreach (var slot in _slots)
        {
            if (slot.Active is not null) continue;
            if (best is null || slot.LastUsed < best.LastUsed) best = slot;
        }
        return best ?? throw new InvalidOperationException("No free slot.");
    }

    public void Attach(Slot slot, Sequence sequence)
    {
        slot.Active = sequence;
        slot.LastUsed = ++_tick;
    }
}
