namespace Castor.Engine.Scheduling;

/// <summary>
/// Computes a prompt prefix's KV in a free sequence (reusing whatever part of it is already resident) and saves that
/// sequence's state as a <see cref="PrefixSnapshot"/>. The sequence keeps the prefix resident afterwards, so the first
/// request that uses it right away needs no restore either. Waits at the head of the queue for a free sequence.
/// </summary>
internal sealed class SaveSnapshotCommand(IReadOnlyList<int> tokens, string partition, EnginePriority priority, CancellationToken cancellationToken)
    : WorkItem(priority)
{
    private readonly TaskCompletionSource<PrefixSnapshot> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<int> Tokens { get; } = tokens;
    public string Partition { get; } = partition;
    public Task<PrefixSnapshot> Completion => _done.Task;

    public override bool IsCancelled => cancellationToken.IsCancellationRequested;

    public override bool TryStart(SequenceScheduler scheduler)
    {
        PrefixSnapshot? snapshot;
        try
        {
            if (!scheduler.Snapshots.TrySave(Tokens, Partition, out snapshot)) return false;
        }
        catch (Exception ex)
        {
            _done.TrySetException(ex);
            return true;
        }
        _done.TrySetResult(snapshot!);
        return true;
    }

    public override void Abandon()
    {
        if (cancellationToken.IsCancellationRequested) _done.TrySetCanceled(cancellationToken);
        else _done.TrySetException(new OperationCanceledException("The server is shutting down."));
    }
}
