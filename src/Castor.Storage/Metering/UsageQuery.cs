namespace Castor.Storage.Metering;

/// <summary>
/// Which usage to sum: one project (by name) or all, the hours from <paramref name="Since"/> (rounded down to its hour)
/// to before <paramref name="Until"/>, one row per <paramref name="By"/>.
/// </summary>
public sealed record UsageQuery(string? ProjectName, DateTimeOffset Since, DateTimeOffset Until, UsageDimension By);
