namespace Castor.Storage.Batches;

/// <summary>A batch job's state, as the API's <c>BATCH_STATE_*</c> values name them.</summary>
public enum BatchState
{
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Expired,
}
