namespace Castor.Application.Batches;

/// <summary>The Batch API's settings (the <c>Batches</c> section: Batches:MaxRunTime, CASTOR_BATCHES__MAX_RUN_TIME, …).</summary>
public sealed class BatchOptions
{
    /// <summary>A job not finished this long after its creation ends <c>BATCH_STATE_EXPIRED</c> with what it finished (the API's 48-hour target).</summary>
    public TimeSpan MaxRunTime { get; set; } = TimeSpan.FromHours(48);

    /// <summary>
    /// How long a worker's claim on a request lasts without renewal (renewed every third of it while the request runs):
    /// a node that dies holds its requests at most this long before another node, or the restarted one, runs them.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an idle worker looks for work other nodes submitted (work submitted to this node wakes it at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Batch requests one node runs at once; 0 means the default model's parallel sequences: batch work fills every idle
    /// sequence, and an interactive request that finds none free takes one from a batch request, which resumes later
    /// where it stopped (the engine preempts batch sequences), so interactive requests never wait for a batch request.
    /// </summary>
    public int MaxConcurrentRequests { get; set; }
}
