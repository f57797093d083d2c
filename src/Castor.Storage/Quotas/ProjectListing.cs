namespace Castor.Storage.Quotas;

/// <summary>One project in a listing; <paramref name="Tier"/> is null when the project uses the default tier.</summary>
public sealed record ProjectListing(string Id, string Name, string? Tier, DateTimeOffset CreatedAt, int ActiveKeys);
