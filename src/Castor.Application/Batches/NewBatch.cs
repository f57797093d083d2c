using Castor.Storage.Batches;

namespace Castor.Application.Batches;

/// <summary>
/// A job as a client submits it: inline requests (already parsed by the adapter, invalid ones carrying their error),
/// or the name of a Files API JSONL file (<c>files/…</c>) whose lines the dialect parses.
/// </summary>
public sealed record NewBatch(BatchKind Kind, IBatchDialect Dialect, string Model, string? DisplayName, IReadOnlyList<NewBatchRequest>? Requests, string? InputFile);
