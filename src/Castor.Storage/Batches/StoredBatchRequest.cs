namespace Castor.Storage.Batches;

/// <summary>A request of a job with its result once it has one (<see cref="Result"/> is null while pending).</summary>
public sealed record StoredBatchRequest(long Position, string? Key, string? Metadata, BatchRequestState State, string? Result);
