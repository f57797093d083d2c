using Castor.Application.Errors;
using Castor.Application.Keys;
using Castor.Application.Metering;
using Castor.Storage.Metering;

namespace Castor.UnitTests.Metering;

public sealed class UsageReportsTests
{
    private sealed class FixedStore(params UsageTotal[] totals) : IUsageStore
    {
        public UsageQuery? LastQuery { get; private set; }

        public Task AddAsync(IReadOnlyCollection<KeyValuePair<UsageBucket, UsageCounts>> counts, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task<IReadOnlyList<UsageTotal>> ReadAsync(UsageQuery query, CancellationToken cancellationToken = default)
        {
            LastQuery = query;
            return Task.FromResult<IReadOnlyList<UsageTotal>>(totals);
        }
    }

    // A million prompt tokens of which 400k cached, 100k candidates and 100k thoughts.
    private static readonly UsageCounts Million = new(3, 1_000_000, 400_000, 100_000, 100_000, 1_000_000, 0, 0, 300);
    private static readonly UsageQuery AllTime = new(null, DateTimeOffset.MinValue, DateTimeOffset.MaxValue, UsageDimension.Day);

    [Fact]
    public async Task Cost_prices_uncached_cached_and_output_tokens_and_halves_batch()
    {
        var store = new FixedStore(
            new UsageTotal("2026-12-01", "gemini-2.5-flash", false, Million, 0),
            new UsageTotal("2026-12-02", "gemini-2.5-flash", true, Million, 0),
            new UsageTotal("2026-12-03", "stories260k", false, Million, 1));
        var report = await new UsageReports(store, new UsageOptions()).ReadAsync(AllTime);

        // 600k × $0.30 + 400k × $0.075 + (100k + 100k) × $2.50, per million.
        Assert.Equal(0.71m, report.Rows[0].EstimatedCost);
        Assert.Equal(0.355m, report.Rows[1].EstimatedCost);
        Assert.Null(report.Rows[2].EstimatedCost);
        Assert.Equal(1.065m, report.Total.EstimatedCost);
        Assert.Equal(9, report.Total.Counts.Requests);
        Assert.Equal(1, report.Total.Errors);
    }

    [Fact]
    public async Task A_configured_price_prices_a_local_model()
    {
        var options = new UsageOptions();
        options.Prices["stories260k"] = new ModelPrice { InputPerMillion = 1m, OutputPerMillion = 2m };
        var report = await new UsageReports(new FixedStore(new UsageTotal("stories260k", "stories260k", false, Million, 0)), options).ReadAsync(AllTime);
        // Cached tokens at the input price when no cached price is set.
        Assert.Equal(1.4m, report.Rows[0].EstimatedCost);
    }

    [Fact]
    public async Task An_ordinary_key_reads_its_own_project_and_is_refused_another()
    {
        var store = new FixedStore();
        var reports = new UsageReports(store, new UsageOptions());
        var ordinary = new Caller("p-1", "alpha", "k-1");

        await reports.ReadAsync(ordinary, AllTime);
        Assert.Equal("alpha", store.LastQuery?.ProjectName);
        await reports.ReadAsync(ordinary, AllTime with { ProjectName = "alpha" });
        Assert.Equal("alpha", store.LastQuery?.ProjectName);

        var refused = await Assert.ThrowsAsync<CastorException>(() => reports.ReadAsync(ordinary, AllTime with { ProjectName = "beta" }));
        Assert.Equal(ErrorStatus.PermissionDenied, refused.Status);

        await reports.ReadAsync(ordinary with { IsAdmin = true }, AllTime);
        Assert.Null(store.LastQuery?.ProjectName);
    }

    [Theory]
    [InlineData("7d", "2026-11-26T12:00:00Z")]
    [InlineData("24h", "2026-12-02T12:00:00Z")]
    [InlineData("2026-12-01", "2026-12-01T00:00:00Z")]
    [InlineData("2026-12-01T08:30:00Z", "2026-12-01T08:30:00Z")]
    public void Times_are_dates_times_or_periods_ago(string text, string expected)
    {
        var now = DateTimeOffset.Parse("2026-12-03T12:00:00Z");
        Assert.True(UsageReports.TryParseTime(text, now, out var time));
        Assert.Equal(DateTimeOffset.Parse(expected), time);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("7w")]
    public void Other_times_are_refused(string text) => Assert.False(UsageReports.TryParseTime(text, DateTimeOffset.UtcNow, out _));

    [Fact]
    public void Groupings_are_named_as_the_cli_and_the_route_take_them()
    {
        Assert.True(UsageReports.TryParseDimension("key", out var key));
        Assert.Equal(UsageDimension.Key, key);
        Assert.True(UsageReports.TryParseDimension(null, out var none));
        Assert.Equal(UsageDimension.Model, none);
        Assert.False(UsageReports.TryParseDimension("1", out _));
        Assert.False(UsageReports.TryParseDimension("week", out _));
    }
}
