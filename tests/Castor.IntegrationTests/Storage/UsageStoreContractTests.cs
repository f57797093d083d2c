using Castor.Storage.Metering;
using Castor.Storage.Relational;
using Castor.Storage.Sqlite;

namespace Castor.IntegrationTests.Storage;

/// <summary>
/// The usage store's adding upsert and its grouped reads, run against SQLite and PostgreSQL by the two classes below:
/// two flushes (or two nodes) of the same hour and bucket add up; a day is the sum of its hours.
/// </summary>
public abstract class UsageStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 10, 17, 0, TimeSpan.Zero);

    protected IRelationalDatabase Database { get; set; } = null!;
    private SqlUsageStore Usage => new(Database);

    public abstract Task InitializeAsync();
    public abstract Task DisposeAsync();

    private static UsageCounts Counts(long prompt, long candidates, long cached = 0) =>
        new(1, prompt, cached, candidates, 0, prompt, 0, 0, 10);

    [StorageFact]
    public async Task Flushes_of_one_bucket_add_up_and_reads_group_by_model_day_key_and_project()
    {
        var keys = new SqlKeyStore(Database);
        var alpha = await keys.EnsureProjectAsync("alpha");
        var beta = await keys.EnsureProjectAsync("beta");
        var flash = new UsageBucket(UsageBucket.HourOf(T0), alpha, "k-1", "gemini-2.5-flash", "generateContent", false, UsageBucket.Ok);

        await Usage.AddAsync([new(flash, Counts(100, 20, cached: 40))]);
        await Usage.AddAsync([
            new(flash, Counts(50, 5)),
            new(flash with { Hour = UsageBucket.HourOf(T0.AddHours(3)), Status = "INVALID_ARGUMENT" }, Counts(0, 0)),
            new(flash with { Hour = UsageBucket.HourOf(T0.AddDays(1)), Model = "stories260k", Batch = true }, Counts(7, 3)),
            new(flash with { ProjectId = beta, KeyId = "k-2" }, Counts(1000, 1000)),
        ]);

        var byModel = await Usage.ReadAsync(new UsageQuery("alpha", T0, T0.AddDays(2), UsageDimension.Model));
        Assert.Equal([("gemini-2.5-flash", false), ("stories260k", true)], byModel.Select(t => (t.Group, t.Batch)));
        var flashTotal = byModel[0];
        Assert.Equal(new UsageCounts(3, 150, 40, 25, 0, 150, 0, 0, 30), flashTotal.Counts);
        Assert.Equal(1, flashTotal.Errors);

        var byDay = await Usage.ReadAsync(new UsageQuery("alpha", T0, T0.AddDays(2), UsageDimension.Day));
        Assert.Equal(["2026-12-02", "2026-12-03"], byDay.Select(t => t.Group).Distinct());
        Assert.Equal(150, byDay.Where(t => t.Group == "2026-12-02").Sum(t => t.Counts.PromptTokens));

        var byProject = await Usage.ReadAsync(new UsageQuery(null, T0, T0.AddDays(2), UsageDimension.Project));
        Assert.Equal(["alpha", "beta"], byProject.Select(t => t.Group).Distinct());
        var byKey = await Usage.ReadAsync(new UsageQuery("beta", T0, T0.AddDays(2), UsageDimension.Key));
        Assert.Equal("k-2", Assert.Single(byKey).Group);

        // Since is rounded down to its hour; until is exclusive.
        var firstHour = await Usage.ReadAsync(new UsageQuery("alpha", T0.AddMinutes(30), UsageBucket.HourOf(T0).AddHours(1), UsageDimension.Status));
        Assert.Equal(2, Assert.Single(firstHour).Counts.Requests);
    }

    [StorageFact]
    public async Task Every_counted_field_round_trips_and_adds_up_tool_use_prompt_tokens_included()
    {
        var project = await new SqlKeyStore(Database).EnsureProjectAsync("fields");
        var bucket = new UsageBucket(UsageBucket.HourOf(T0), project, "k-1", "gemini-2.5-flash", "generateContent", false, UsageBucket.Ok);
        // Every field a distinct value, so a column read into the wrong field shows.
        var counts = new UsageCounts(1, 2, 3, 4, 5, 6, 7, 8, 9) { ToolUsePromptTokens = 10 };
        await Usage.AddAsync([new(bucket, counts)]);
        await Usage.AddAsync([new(bucket, counts)]);

        var total = Assert.Single(await Usage.ReadAsync(new UsageQuery("fields", T0, T0.AddHours(1), UsageDimension.Model))).Counts;
        Assert.Equal(counts + counts, total);
        Assert.Equal(new UsageCounts(2, 4, 6, 8, 10, 12, 14, 16, 18) { ToolUsePromptTokens = 20 }, total);
        Assert.Equal(4 + 20 + 8 + 10, total.TotalTokens);
    }
}

public sealed class SqliteUsageStoreTests : UsageStoreContractTests
{
    private readonly string _folder = Directory.CreateTempSubdirectory("castor-usage-store").FullName;

    public override async Task InitializeAsync()
    {
        var database = new SqliteDatabase(_folder);
        await database.MigrateAsync();
        Database = database;
    }

    public override Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }
}

[RequiresPostgres]
public sealed class PostgresUsageStoreTests : UsageStoreContractTests
{
    private string? _schema;

    public override async Task InitializeAsync()
    {
        if (PostgresTestDatabase.SkipReason is not null) return;
        var (connectionString, schema) = await PostgresTestDatabase.CreateSchemaAsync();
        _schema = schema;
        Database = await PostgresTestDatabase.OpenAsync(connectionString);
    }

    public override async Task DisposeAsync()
    {
        if (Database is IAsyncDisposable disposable) await disposable.DisposeAsync();
        if (_schema is not null) await PostgresTestDatabase.DropSchemaAsync(_schema);
    }
}
