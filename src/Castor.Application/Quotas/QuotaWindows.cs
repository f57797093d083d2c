namespace Castor.Application.Quotas;

/// <summary>
/// The API's rate-limit windows: fixed minutes (RPM, TPM) and days that start at midnight Pacific time (RPD), as Unix
/// seconds so every node and both databases key a window the same way.
/// </summary>
public static class QuotaWindows
{
    private static readonly TimeZoneInfo Pacific = FindPacific();

    /// <summary>The start of the minute window holding <paramref name="now"/>, and when the next one starts.</summary>
    public static (long Start, DateTimeOffset End) Minute(DateTimeOffset now, TimeSpan length)
    {
        var seconds = Math.Max(1, (long)length.TotalSeconds);
        var unix = now.ToUnixTimeSeconds();
        var start = unix - (((unix % seconds) + seconds) % seconds);
        return (start, DateTimeOffset.FromUnixTimeSeconds(start + seconds));
    }

    /// <summary>The start of the Pacific day holding <paramref name="now"/> (its midnight, daylight saving included), and the next midnight.</summary>
    public static (long Start, DateTimeOffset End) Day(DateTimeOffset now)
    {
        var local = TimeZoneInfo.ConvertTime(now, Pacific);
        var midnight = MidnightOf(local.Date);
        return (midnight.ToUnixTimeSeconds(), MidnightOf(local.Date.AddDays(1)));
    }

    private static DateTimeOffset MidnightOf(DateTime date)
    {
        var unspecified = DateTime.SpecifyKind(date, DateTimeKind.Unspecified);
        return new DateTimeOffset(unspecified, Pacific.GetUtcOffset(unspecified));
    }

    // A machine without time zone data (a bare container) still limits per day: Pacific standard time, all year.
    private static TimeZoneInfo FindPacific() =>
        TimeZoneInfo.TryFindSystemTimeZoneById("America/Los_Angeles", out var zone) ? zone
        : TimeZoneInfo.CreateCustomTimeZone("Pacific (no tzdata)", TimeSpan.FromHours(-8), "Pacific", "PST");
}
