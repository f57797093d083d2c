namespace Castor.Storage.Batches;

/// <summary>
/// A request as submitted: its key (a file line's <c>key</c> or <c>custom_id</c>), its metadata (inline input, JSON) and
/// its request JSON; or, when it failed validation, <see cref="Error"/> (JSON in the job's dialect) and no request.
/// </summary>
public sealed record NewBatchRequest(string? Key, string? Metadata, string? Request, string? Error)
{
    /// <summary>The request's input tokens as its model counts them, when counted at enqueue (for the Batch Enqueued Tokens limit).</summary>
    public long? EnqueuedTokens { get; init; }

    /// <summary>The local model <see cref="EnqueuedTokens"/> were counted for.</summary>
    public string? EnqueuedModel { get; init; }
}
