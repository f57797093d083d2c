namespace Castor.Storage.Batches;

/// <summary>
/// A request a worker claimed, with what it needs from its job to run it, and to stream its result line to the job's
/// output file as soon as it is recorded: its <see cref="Key"/>, and whether the job has an output file (file input).
/// </summary>
public sealed record ClaimedBatchRequest(BatchRequestId Id, string ProjectId, string Kind, string Dialect, string Model, string Request, int Attempts,
    string? Key = null, bool WritesFile = false)
{
    /// <summary>The key that created the job (null for jobs stored before keys were recorded).</summary>
    public string? SubmitterKeyId { get; init; }
}
