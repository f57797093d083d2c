namespace Castor.Storage.Quotas;

/// <summary>What a project has waiting in batch jobs, for the Batch Enqueued Tokens limit.</summary>
public interface IBatchBacklogStore
{
    /// <summary>The characters of the requests not yet run in the project's open batch jobs for <paramref name="model"/> (<c>models/{id}</c>, as jobs store it).</summary>
    Task<long> EnqueuedRequestCharactersAsync(string projectId, string model, CancellationToken cancellationToken = default);
}
