namespace Castor.Storage.Batches;

/// <summary>A request a worker claimed, with what it needs from its job to run it.</summary>
public sealed record ClaimedBatchRequest(BatchRequestId Id, string ProjectId, string Kind, string Dialect, string Model, string Request, int Attempts)
{
    /// <summary>The key that created the job (null for jobs stored before keys were recorded).</summary>
    public string? SubmitterKeyId { get; init; }
}
