using Castor.Storage.Metering;

namespace Castor.Application.Metering;

/// <summary>
/// One row of a usage report: the group's value (a model, key id, day, method, project or status), its summed counts,
/// how many of its requests failed, and the estimated cost in US dollars of its priced models' tokens (null when none of
/// its models has a price).
/// </summary>
public sealed record UsageReportRow(string Group, UsageCounts Counts, long Errors, decimal? EstimatedCost);
