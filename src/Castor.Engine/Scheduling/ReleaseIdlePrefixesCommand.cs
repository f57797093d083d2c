namespace Castor.Engine.Scheduling;

/// <summary>
/// Drops the prompts idle slots keep resident (those of one prefix partition, or all): the KV cells they hold come
/// free, and the next request with that prefix computes it again. Its result is the number of positions freed.
/// </summary>
internal sealed class ReleaseIdlePrefixesCommand(string? partition, EnginePriority priority, CancellationToken cancellationToken)
    : WorkItem(priority)
{
    private readonly TaskCompletionSource<int> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<int> Completion => _done.Task;

    public override bool IsCancelled => cancellationToken.IsCancellationRequested;

    public override bool TryStart(SequenceScheduler scheduler)
    {
        _done.TrySetResult(scheduler.Prefixes.ReleaseIdle(partition));
        return true;
    }

    public override void Abandon()
    {
        if (cancellationToken.IsCancellationRequested) _done.TrySetCanceled(cancellationToken);
        else _done.TrySetException(new OperationCanceledException("The server is shutting down."));
    }
}
