using Castor.Storage.Metering;

namespace Castor.Application.Metering;

/// <summary>A usage report: what was asked for, one row per group, and the total over the rows.</summary>
public sealed record UsageReport(UsageQuery Query, IReadOnlyList<UsageReportRow> Rows, UsageReportRow Total);
