namespace Castor.Engine.Scheduling;

/// <summary>
/// The KV state of one sequence that holds exactly <see cref="Tokens"/> from position 0 (llama.cpp's sequence state,
/// <c>llama_state_seq_get_data</c>). Restoring it into a free sequence makes those tokens resident there, as if they had
/// just been decoded; it only fits a context of the same model and KV layout (<see cref="Models.LlamaModel.SnapshotIdentity"/>).
/// </summary>
public sealed class PrefixSnapshot(IReadOnlyList<int> tokens, byte[] state)
{
    public IReadOnlyList<int> Tokens { get; } = tokens;

    /// <summary>The bytes llama.cpp wrote for the sequence.</summary>
    public byte[] State { get; } = state;
}
