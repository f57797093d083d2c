namespace Castor.Storage.Metering;

/// <summary>
/// One group's usage of one model, batch or online (the report prices each model and batch separately, then adds):
/// the group's value (a model, key id, day <c>yyyy-MM-dd</c>, method, project name or status), its counts, and how
/// many of its requests ended in an error.
/// </summary>
public sealed record UsageTotal(string Group, string Model, bool Batch, UsageCounts Counts, long Errors);
