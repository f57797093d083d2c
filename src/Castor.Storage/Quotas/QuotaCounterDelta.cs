namespace Castor.Storage.Quotas;

/// <summary>An amount to add to one rate-limit counter: a project's use of a model's metric in the window starting at <paramref name="WindowStart"/> (Unix seconds).</summary>
public sealed record QuotaCounterDelta(string ProjectId, string Model, string Metric, long WindowStart, long Amount);
