using System.CommandLine;
using System.Globalization;
using Castor.Application.Metering;
using Castor.Server;
using Castor.Storage.Metering;
using Castor.Storage.Relational;
using Spectre.Console;

namespace Castor.Cli;

/// <summary>
/// <c>castor usage</c>: metered usage from the data folder (or PostgreSQL), read straight from the database like
/// <c>castor batches</c>, so it works whether or not a server runs; a running server writes its counts every
/// <c>Usage:FlushInterval</c>.
/// </summary>
internal static class UsageCommand
{
    public static Command Create(Option<string?> dataOption, Option<string?> configOption)
    {
        var project = new Option<string?>("--project", "-p") { Description = "Only this project's usage (default: every project)." };
        var since = new Option<string>("--since") { Description = "From this date (2026-12-01, UTC), time (ISO 8601) or period ago (7d, 24h).", DefaultValueFactory = _ => "7d" };
        var until = new Option<string?>("--until") { Description = "Up to (not including) this date, time or period ago (default: now)." };
        var by = new Option<string>("--by") { Description = $"One row per {UsageReports.DimensionNames}.", DefaultValueFactory = _ => "model" };
        var command = new Command("usage", "Tokens and requests per model, key, day, method, project or status, with an estimated cost.")
        {
            project, since, until, by, dataOption, configOption,
        };
        command.SetAction(async (parse, ct) =>
        {
            var now = DateTimeOffset.UtcNow;
            if (!UsageReports.TryParseTime(parse.GetValue(since)!, now, out var from))
                return Usage($"--since '{parse.GetValue(since)}' is not a date, a time or a period such as 7d.");
            var to = now;
            if (parse.GetValue(until) is { } untilText && !UsageReports.TryParseTime(untilText, now, out to))
                return Usage($"--until '{untilText}' is not a date, a time or a period such as 7d.");
            if (!UsageReports.TryParseDimension(parse.GetValue(by), out var dimension))
                return Usage($"--by '{parse.GetValue(by)}' is not one of {UsageReports.DimensionNames}.");
            try
            {
                var options = OptionsLoader.Load(parse.GetValue(configOption));
                var database = await CastorStorage.OpenAsync(options, parse.GetValue(dataOption) ?? options.Data, ct);
                var reports = new UsageReports(new SqlUsageStore(database), options.Usage);
                var report = await reports.ReadAsync(new UsageQuery(parse.GetValue(project), from, to, dimension), ct);
                Print(report);
                return 0;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException or InvalidDataException)
            {
                Console.Error.WriteLine($"castor: {ex.Message}");
                return 1;
            }
        });
        return command;
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"castor: {message}");
        return 2;
    }

    private static void Print(UsageReport report)
    {
        var q = report.Query;
        var who = q.ProjectName is null ? "every project" : $"project '{q.ProjectName}'";
        Console.Error.WriteLine($"Usage of {who} from {UsageBucket.HourOf(q.Since):yyyy-MM-dd HH:mm} to {q.Until:yyyy-MM-dd HH:mm} UTC, by {q.By.ToString().ToLowerInvariant()}.");
        if (report.Rows.Count == 0)
        {
            Console.Error.WriteLine("No usage in that period.");
            return;
        }
        // Console.Out, not AnsiConsole's cached console: output redirected to a file or a test's writer gets the table too,
        // wide enough not to wrap its columns.
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        console.Profile.Width = Console.IsOutputRedirected ? 200 : Math.Max(console.Profile.Width, 140);
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn(q.By.ToString().ToUpperInvariant())
            .AddColumn(new TableColumn("REQUESTS").RightAligned())
            .AddColumn(new TableColumn("ERRORS").RightAligned())
            .AddColumn(new TableColumn("PROMPT").RightAligned())
            .AddColumn(new TableColumn("CACHED").RightAligned())
            .AddColumn(new TableColumn("CANDIDATES").RightAligned())
            .AddColumn(new TableColumn("THOUGHTS").RightAligned())
            .AddColumn(new TableColumn("TOTAL").RightAligned())
            .AddColumn(new TableColumn("AVG LATENCY").RightAligned())
            .AddColumn(new TableColumn("EST. COST (USD)").RightAligned());
        foreach (var row in report.Rows) table.AddRow(Cells(row));
        if (report.Rows.Count > 1) table.AddRow(Cells(report.Total));
        console.Write(table);
    }

    private static string[] Cells(UsageReportRow row)
    {
        var c = row.Counts;
        return
        [
            Markup.Escape(row.Group), N(c.Requests), N(row.Errors), N(c.PromptTokens), N(c.CachedContentTokens), N(c.CandidatesTokens),
            N(c.ThoughtsTokens), N(c.TotalTokens), c.Requests == 0 ? "" : $"{c.LatencyMilliseconds / (double)c.Requests:0} ms",
            row.EstimatedCost is { } cost ? cost.ToString("0.0000", CultureInfo.InvariantCulture) : "",
        ];
    }

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
