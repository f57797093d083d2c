namespace Castor.Storage.Quotas;

/// <summary>One open Live session's hold on a slot of its project's concurrent-sessions limit for a model, until <paramref name="ExpiresAt"/> unless renewed.</summary>
public sealed record LiveSessionLease(string Id, string ProjectId, string Model, DateTimeOffset ExpiresAt);
