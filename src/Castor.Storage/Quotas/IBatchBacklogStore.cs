namespace Castor.Storage.Quotas;

/// <summary>What a project has waiting in batch jobs, for the Batch Enqueued Tokens limit.</summary>
public interface IBatchBacklogStore
{
    /// <summary>
    /// The input tokens of the requests not yet run in the project's open batch jobs for the local model
    /// <paramref name="modelId"/>: each request's count from enqueue, or for a request not counted then (in a job for
    /// <paramref name="storedModel"/>, <c>models/{name}</c> as jobs store it) its length at about four characters a token.
    /// </summary>
    Task<long> EnqueuedTokensAsync(string projectId, string modelId, string storedModel, CancellationToken cancellationToken = default);
}
