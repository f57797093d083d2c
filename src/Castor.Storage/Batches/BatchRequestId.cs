namespace Castor.Storage.Batches;

/// <summary>A request of a job, by its position in the input (0-based).</summary>
public readonly record struct BatchRequestId(string BatchId, long Position);
