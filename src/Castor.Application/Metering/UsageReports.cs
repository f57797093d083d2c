using System.Globalization;
using Castor.Application.Errors;
using Castor.Application.Keys;
using Castor.Storage.Metering;

namespace Castor.Application.Metering;

/// <summary>
/// Reads metered usage for <c>castor usage</c> and <c>GET /v1beta/castor/usage</c>: sums the hourly rows per group and
/// prices each model's tokens with <see cref="UsageOptions.Prices"/>.
/// </summary>
public sealed class UsageReports(IUsageStore store, UsageOptions options)
{
    /// <summary>How far back a report reaches when no start is given.</summary>
    public static readonly TimeSpan DefaultPeriod = TimeSpan.FromDays(7);

    /// <summary>
    /// The report as <paramref name="caller"/> may read it: an admin key reads any project's usage (every project's when
    /// <c>ProjectName</c> is null); any other key reads its own project's only, and naming another project is refused
    /// with 403 PERMISSION_DENIED, the same answer whether or not that project exists.
    /// </summary>
    public Task<UsageReport> ReadAsync(Caller caller, UsageQuery query, CancellationToken cancellationToken = default)
    {
        if (!caller.IsAdmin)
        {
            if (query.ProjectName is { } named && named != caller.ProjectName)
                throw new CastorException(ErrorStatus.PermissionDenied,
                    $"This key reads the usage of its own project ('{caller.ProjectName}') only; another project's usage needs an admin key.");
            query = query with { ProjectName = caller.ProjectName };
        }
        return ReadAsync(query, cancellationToken);
    }

    public async Task<UsageReport> ReadAsync(UsageQuery query, CancellationToken cancellationToken = default)
    {
        var totals = await store.ReadAsync(query, cancellationToken).ConfigureAwait(false);
        var rows = totals.GroupBy(t => t.Group, StringComparer.Ordinal)
            .Select(g => Row(g.Key, g.ToList()))
            .ToList();
        return new UsageReport(query, rows, Row("total", totals));
    }

    private UsageReportRow Row(string group, IReadOnlyCollection<UsageTotal> parts)
    {
        var counts = UsageCounts.Zero;
        decimal? cost = null;
        foreach (var part in parts)
        {
            counts += part.Counts;
            if (CostOf(part) is { } c) cost = (cost ?? 0) + c;
        }
        return new UsageReportRow(group, counts, parts.Sum(p => p.Errors), cost);
    }

    /// <summary>Uncached prompt tokens (and tool-use prompt tokens) at the input price, cached ones at the cached price, candidates and thoughts at the output price; batch at half.</summary>
    internal decimal? CostOf(UsageTotal part)
    {
        if (!options.Prices.TryGetValue(part.Model, out var price)) return null;
        var c = part.Counts;
        var uncached = Math.Max(0, c.PromptTokens - c.CachedContentTokens);
        var cost = ((uncached + c.ToolUsePromptTokens) * price.InputPerMillion
                    + c.CachedContentTokens * (price.CachedPerMillion ?? price.InputPerMillion)
                    + (c.CandidatesTokens + c.ThoughtsTokens) * price.OutputPerMillion) / 1_000_000m;
        return part.Batch ? cost / 2 : cost;
    }

    /// <summary>
    /// A report's start or end: a date (<c>2026-12-01</c>, midnight UTC), a time (ISO 8601), or a period before
    /// <paramref name="now"/> (<c>7d</c>, <c>24h</c>).
    /// </summary>
    public static bool TryParseTime(string text, DateTimeOffset now, out DateTimeOffset time)
    {
        text = text.Trim();
        if (text.Length > 1 && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= 100_000)
        {
            switch (char.ToLowerInvariant(text[^1]))
            {
                case 'd':
                    time = now - TimeSpan.FromDays(n);
                    return true;
                case 'h':
                    time = now - TimeSpan.FromHours(n);
                    return true;
            }
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
    }

    /// <summary>A report's grouping by name (<c>model</c>, <c>key</c>, <c>day</c>, <c>method</c>, <c>project</c>, <c>status</c>).</summary>
    public static bool TryParseDimension(string? text, out UsageDimension by)
    {
        by = UsageDimension.Model;
        if (string.IsNullOrWhiteSpace(text)) return true;
        return Enum.TryParse(text.Trim(), ignoreCase: true, out by) && Enum.IsDefined(by) && !int.TryParse(text, out _);
    }

    /// <summary>The names <see cref="TryParseDimension"/> accepts, for messages.</summary>
    public static string DimensionNames => string.Join("|", Enum.GetNames<UsageDimension>().Select(n => n.ToLowerInvariant()));
}
