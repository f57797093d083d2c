namespace Castor.Storage.Batches;

/// <summary>One request of a batch: waiting (possibly leased to a worker), or finished with a response or an error.</summary>
public enum BatchRequestState
{
    Pending,
    Succeeded,
    Failed,
}
