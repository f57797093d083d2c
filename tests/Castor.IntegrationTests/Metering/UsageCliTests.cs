using Castor.Storage.Metering;
using Castor.Storage.Relational;
using Castor.Storage.Sqlite;

namespace Castor.IntegrationTests.Metering;

/// <summary><c>castor usage</c> end to end: the real parser, usage rows in SQLite under --data, the table on stdout.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class UsageCliTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("castor-usage-cli").FullName;

    private static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            var exit = await Castor.Cli.Program.Main(args);
            return (exit, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    private async Task SeedAsync()
    {
        var database = new SqliteDatabase(_data);
        await database.MigrateAsync();
        var project = await new SqlKeyStore(database).EnsureProjectAsync("alpha");
        var hour = UsageBucket.HourOf(DateTimeOffset.UtcNow);
        var flash = new UsageBucket(hour, project, "k-1", "gemini-2.5-flash", "generateContent", false, UsageBucket.Ok);
        await new SqlUsageStore(database).AddAsync([
            // 1M uncached prompt tokens and 1M output tokens of gemini-2.5-flash: $0.30 + $2.50.
            new(flash, new UsageCounts(4, 1_000_000, 0, 1_000_000, 0, 1_000_000, 0, 0, 400)),
            new(flash with { Model = "stories260k", KeyId = "k-2" }, new UsageCounts(2, 30, 0, 8, 0, 30, 0, 0, 20)),
        ]);
    }

    [Fact]
    public async Task Usage_prints_tokens_and_an_estimated_cost_per_model_blank_where_no_price_is_known()
    {
        await SeedAsync();

        var (exit, stdout, stderr) = await Run("usage", "--data", _data, "--since", "2d");

        Assert.Equal(0, exit);
        Assert.Contains("every project", stderr);
        var lines = stdout.Split('\n');
        var flash = lines.Single(l => l.Contains("gemini-2.5-flash"));
        Assert.Contains("1,000,000", flash);
        Assert.Contains("2.8000", flash);
        Assert.Contains("100 ms", flash);
        var local = lines.Single(l => l.Contains("stories260k"));
        Assert.Contains("30", local);
        Assert.DoesNotMatch(@"\d\.\d{4}", local);
        Assert.Contains("2.8000", lines.Single(l => l.Contains("total")));
    }

    [Fact]
    public async Task Usage_groups_by_key_and_filters_by_project()
    {
        await SeedAsync();

        var (_, byKey, _) = await Run("usage", "--data", _data, "--by", "key", "--project", "alpha");
        Assert.Contains(byKey.Split('\n'), l => l.Contains("k-1") && l.Contains("2.8000"));
        Assert.Contains(byKey.Split('\n'), l => l.Contains("k-2"));

        var (exit, none, stderr) = await Run("usage", "--data", _data, "--project", "beta");
        Assert.Equal(0, exit);
        Assert.Equal("", none.Trim());
        Assert.Contains("No usage", stderr);
    }

    [Fact]
    public async Task A_bad_grouping_or_period_is_a_usage_error()
    {
        Assert.Equal(2, (await Run("usage", "--data", _data, "--by", "week")).Exit);
        Assert.Equal(2, (await Run("usage", "--data", _data, "--since", "yesterday")).Exit);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }
}
