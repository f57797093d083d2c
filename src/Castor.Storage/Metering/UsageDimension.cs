namespace Castor.Storage.Metering;

/// <summary>What a usage report has one row per (<c>--by</c>, <c>by=</c>).</summary>
public enum UsageDimension
{
    Model,
    Key,
    Day,
    Method,
    Project,
    Status,
}
