namespace Castor.Storage.Metering;

/// <summary>
/// What one row of metered usage is counted under: the hour (UTC, on the hour), who called (project and key), what
/// they called (the model as named, the method), whether through the Batch API, and how it ended (<c>OK</c> or the
/// error's Google RPC status, e.g. <c>INVALID_ARGUMENT</c>).
/// </summary>
public readonly record struct UsageBucket(DateTimeOffset Hour, string ProjectId, string KeyId, string Model, string Method, bool Batch, string Status)
{
    /// <summary>The status of a request that succeeded.</summary>
    public const string Ok = "OK";

    /// <summary>The start of the UTC hour <paramref name="time"/> falls in.</summary>
    public static DateTimeOffset HourOf(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }
}
