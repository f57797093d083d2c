namespace Castor.Application.Batches;

/// <summary>One page of a project's jobs, newest first.</summary>
public sealed record BatchListing(IReadOnlyList<BatchJob> Batches, string? NextPageToken);
