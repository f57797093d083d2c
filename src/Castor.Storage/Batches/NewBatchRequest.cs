namespace Castor.Storage.Batches;

/// <summary>
/// A request as submitted: its key (a file line's <c>key</c> or <c>custom_id</c>), its metadata (inline input, JSON) and
/// its request JSON; or, when it failed validation, <see cref="Error"/> (JSON in the job's dialect) and no request.
/// </summary>
public sealed record NewBatchRequest(string? Key, string? Metadata, string? Request, string? Error);
