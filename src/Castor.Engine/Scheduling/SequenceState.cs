namespace Castor.Engine.Scheduling;

internal enum SequenceState
{
    /// <summary>Its prompt is being decoded, a chunk per step.</summary>
    Prefill,
    /// <summary>A further candidate waiting for the first candidate's prompt, to fork it.</summary>
    AwaitingFork,
    /// <summary>One token per step.</summary>
    Decoding,
    /// <summary>Out of the batches while a grammar worker draws its token.</summary>
    Drawing,
}
