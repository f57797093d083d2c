namespace Castor.Storage.Batches;

/// <summary>
/// A batch job's row. <see cref="Kind"/> is the method each request calls (<c>generateContent</c>, <c>embedContent</c>),
/// <see cref="Dialect"/> the API whose wire shapes its requests and results use (<c>gemini</c>, <c>openai</c>).
/// <see cref="InputFile"/> is set for file input (its results then go to <see cref="OutputFile"/>), null for inline input.
/// </summary>
public sealed record StoredBatch(
    string Id,
    string ProjectId,
    string Kind,
    string Dialect,
    string Model,
    string? DisplayName,
    string? InputFile,
    string? OutputFile,
    BatchState State,
    string? ErrorMessage,
    long RequestCount,
    bool Finalized,
    DateTimeOffset CreateTime,
    DateTimeOffset UpdateTime,
    DateTimeOffset? EndTime,
    DateTimeOffset ExpireTime)
{
    /// <summary>The id of the key that created the job, whose usage its requests are; null for jobs stored before keys were recorded.</summary>
    public string? SubmitterKeyId { get; init; }
}
