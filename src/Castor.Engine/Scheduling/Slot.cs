namespace Castor.Engine.Scheduling;

/// <summary>
/// A llama sequence id and the positions whose KV it holds (kept after its request ends, for prefix reuse), as
/// <see cref="PrefixMatcher"/> keys.
/// </summary>
internal sealed class Slot(LLama.Native.LLamaSeqId id)
{
    public LLama.Native.LLamaSeqId Id { get; } = id;

    /// <summary>Keys of the resident positions; its count is the next position to decode.</summary>
    public List<long> Resident { get; } = [];

    /// <summary>The <see cref="EngineRequest.PrefixPartition"/> whose positions <see cref="Resident"/> are.</summary>
    public string Partition { get; set; } = "";
    public Sequence? Active { get; set; }
    public long LastUsed { get; set; }
}
