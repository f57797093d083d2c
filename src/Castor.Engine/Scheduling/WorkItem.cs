namespace Castor.Engine.Scheduling;

/// <summary>
/// Something the scheduler thread does for a caller, in admission order: a generation request, or a command on the
/// KV cache (<see cref="ReleaseIdlePrefixesCommand"/>; later snapshot save/restore, media evaluation). Only the
/// scheduler thread touches the llama context, so everything that does goes through here.
/// </summary>
internal abstract class WorkItem(EnginePriority priority)
{
    public EnginePriority Priority { get; } = priority;

    /// <summary>True when the caller no longer wants it: dropped from the queue without running.</summary>
    public abstract bool IsCancelled { get; }

    /// <summary>
    /// Runs it if the scheduler can now (the head of the queue); false leaves it at the head to try again after the
    /// next step (a generation waiting for free sequences).
    /// </summary>
    public abstract bool TryStart(SequenceScheduler scheduler);

    /// <summary>Ends it without running (cancelled, or the server is stopping).</summary>
    public abstract void Abandon();
}
