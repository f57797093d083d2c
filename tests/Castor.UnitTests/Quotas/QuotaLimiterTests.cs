using Castor.Application.Errors;
using Castor.Application.Keys;
using Castor.Application.Quotas;
using Castor.Storage.Quotas;
using Castor.Storage.Relational;
using Castor.Storage.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Castor.UnitTests.Quotas;

/// <summary>The limiter on a real SQLite store, with the clock moved by hand: windows, totals under concurrency, the 429's details.</summary>
public sealed class QuotaLimiterTests : IAsyncLifetime
{
    // 02:00:30 in Los Angeles (PST, UTC-8): the minute ends in 30 s, the Pacific day at 08:00 UTC tomorrow.
    private static readonly DateTimeOffset Start = new(2026, 1, 5, 10, 0, 30, TimeSpan.Zero);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "castor-quotas-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly FakeTimeProvider _clock = new(Start);
    private SqliteDatabase _database = null!;
    private Caller _caller = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        _database = new SqliteDatabase(_folder);
        await _database.MigrateAsync();
        var projects = new SqlProjectStore(_database);
        Assert.True(await projects.CreateProjectAsync("team", null, Start));
        var id = (await projects.ListProjectsAsync()).Single().Id;
        _caller = new Caller(id, "team", "k-1") { TierKnown = true };
    }

    public Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private QuotaLimiter Limiter(QuotaLimits limits, string model = "*", IQuotaCounterStore? counters = null) => new(
        new QuotaOptions { DefaultTier = "free", Tiers = new() { ["free"] = new() { [model] = limits } } },
        counters ?? new SqlQuotaCounterStore(_database), new SqlProjectStore(_database), _clock);

    private async Task<bool> TryAdmitAsync(QuotaLimiter limiter, long tokens = 1, string model = "m")
    {
        try
        {
            await limiter.AdmitAsync(_caller, QuotaOperation.GenerateContent, model, model, 1, tokens, CancellationToken.None);
            return true;
        }
        catch (CastorException ex) when (ex.Status == ErrorStatus.ResourceExhausted)
        {
            return false;
        }
    }

    [Fact]
    public async Task Sixteen_concurrent_clients_against_20_rpm_get_exactly_20_then_the_next_minute_admits_again()
    {
        var limiter = Limiter(new QuotaLimits { Rpm = 20 });
        async Task<int> Client()
        {
            var admitted = 0;
            for (var i = 0; i < 4; i++)
                if (await TryAdmitAsync(limiter)) admitted++;
            return admitted;
        }

        var first = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(Client)));
        Assert.Equal(20, first.Sum());

        _clock.Advance(TimeSpan.FromSeconds(30));
        var second = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(Client)));
        Assert.Equal(20, second.Sum());
    }

    [Fact]
    public async Task Counted_in_memory_for_one_node_the_same_holds_and_the_counts_outlive_a_restart()
    {
        await using var memory = new MemoryQuotaCounterStore(new SqlQuotaCounterStore(_database));
        var limiter = Limiter(new QuotaLimits { Rpm = 20 }, counters: memory);
        async Task<int> Client()
        {
            var admitted = 0;
            for (var i = 0; i < 4; i++)
                if (await TryAdmitAsync(limiter)) admitted++;
            return admitted;
        }
        Assert.Equal(20, (await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(Client)))).Sum());

        // Written behind: a new node on the same database (a restart) starts from the written total.
        await memory.FlushAsync();
        await using var restarted = new MemoryQuotaCounterStore(new SqlQuotaCounterStore(_database));
        Assert.False(await TryAdmitAsync(Limiter(new QuotaLimits { Rpm = 20 }, counters: restarted)));
        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(20, (await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(Client)))).Sum());
    }

    [Fact]
    public async Task Refused_requests_do_not_count_so_the_window_stays_at_the_limit()
    {
        var limiter = Limiter(new QuotaLimits { Rpm = 2 });
        Assert.True(await TryAdmitAsync(limiter));
        Assert.True(await TryAdmitAsync(limiter));
        for (var i = 0; i < 5; i++) Assert.False(await TryAdmitAsync(limiter));
        var totals = await new SqlQuotaCounterStore(_database).AddAsync(
            [new(_caller.ProjectId, "m", "rpm", QuotaWindows.Minute(Start, TimeSpan.FromMinutes(1)).Start, 0)]);
        Assert.Equal(2, totals[0]);
    }

    [Fact]
    public async Task Tokens_per_minute_count_input_tokens()
    {
        var limiter = Limiter(new QuotaLimits { Tpm = 100 });
        Assert.True(await TryAdmitAsync(limiter, 30));
        Assert.True(await TryAdmitAsync(limiter, 30));
        Assert.True(await TryAdmitAsync(limiter, 30));
        var refused = await Assert.ThrowsAsync<CastorException>(() =>
            limiter.AdmitAsync(_caller, QuotaOperation.GenerateContent, "m", "m", 1, 30, CancellationToken.None).AsTask());
        var violation = Assert.Single(refused.Details.OfType<QuotaViolation>());
        Assert.Equal("generativelanguage.googleapis.com/generate_content_free_tier_input_token_count", violation.QuotaMetric);
        Assert.Equal("GenerateInputTokensPerModelPerMinute-FreeTier", violation.QuotaId);
        Assert.Equal(100, violation.Value);

        Assert.True(await TryAdmitAsync(limiter, 10));
        Assert.False(await TryAdmitAsync(limiter, 1));

        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.True(await TryAdmitAsync(limiter, 100));
    }

    [Fact]
    public async Task Requests_per_day_reset_at_midnight_pacific_and_the_429_says_how_long_until_then()
    {
        var limiter = Limiter(new QuotaLimits { Rpd = 2, Rpm = 100 });
        Assert.True(await TryAdmitAsync(limiter));
        Assert.True(await TryAdmitAsync(limiter));
        _clock.Advance(TimeSpan.FromHours(3));
        var error = await Assert.ThrowsAsync<CastorException>(() =>
            limiter.AdmitAsync(_caller, QuotaOperation.GenerateContent, "m", "alias", 1, 1, CancellationToken.None).AsTask());

        Assert.Equal(ErrorStatus.ResourceExhausted, error.Status);
        Assert.StartsWith("You exceeded your current quota, please check your plan and billing details.", error.Message);
        Assert.Contains("* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 2, model: m", error.Message);
        var violation = Assert.Single(error.Details.OfType<QuotaViolation>());
        Assert.Equal("GenerateRequestsPerDayPerProjectPerModel-FreeTier", violation.QuotaId);
        Assert.Equal(new Dictionary<string, string> { ["location"] = "global", ["model"] = "m" }, violation.Dimensions);
        Assert.Equal(2, violation.Value);
        Assert.Equal("https://ai.google.dev/gemini-api/docs/rate-limits", Assert.Single(error.Details.OfType<HelpLink>()).Url);
        // 13:00:30 UTC is 05:00:30 in Los Angeles; midnight Pacific is 08:00 UTC tomorrow.
        var midnight = new DateTimeOffset(2026, 1, 6, 8, 0, 0, TimeSpan.Zero);
        Assert.Equal(midnight - _clock.GetUtcNow(), Assert.Single(error.Details.OfType<RetryDelay>()).Delay);

        _clock.SetUtcNow(midnight);
        Assert.True(await TryAdmitAsync(limiter));
    }

    [Fact]
    public async Task A_project_without_a_tier_and_no_default_is_not_counted_at_all()
    {
        var limiter = new QuotaLimiter(new QuotaOptions { Tiers = new() { ["paid"] = new() { ["*"] = new QuotaLimits { Rpm = 1 } } } },
            new SqlQuotaCounterStore(_database), new SqlProjectStore(_database), _clock);
        for (var i = 0; i < 3; i++)
            Assert.Null(await limiter.AdmitAsync(_caller, QuotaOperation.GenerateContent, "m", "m", 1, 1, CancellationToken.None));

        // A tier of its own applies, read with the key.
        var paid = _caller with { Tier = "paid" };
        Assert.NotNull(await limiter.AdmitAsync(paid, QuotaOperation.GenerateContent, "m", "m", 1, 1, CancellationToken.None));
        await Assert.ThrowsAsync<CastorException>(() => limiter.AdmitAsync(paid, QuotaOperation.GenerateContent, "m", "m", 1, 1, CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task A_model_entry_applies_to_the_local_model_and_to_the_alias_the_request_used()
    {
        var options = new QuotaOptions
        {
            DefaultTier = "free",
            Tiers = new() { ["free"] = new() { ["gemini-2.5-flash"] = new QuotaLimits { Rpm = 1 }, ["*"] = new QuotaLimits { Rpm = 5 } } },
        };
        Assert.Equal(1, options.LimitsFor("free", "gemma-3-1b-it", "gemini-2.5-flash")!.Rpm);
        Assert.Equal(5, options.LimitsFor("free", "gemma-3-1b-it", "gemma-3-1b-it")!.Rpm);
        Assert.Null(options.LimitsFor("tier-1", "gemma-3-1b-it", "gemma-3-1b-it"));
        Assert.Equal(("free_tier", "FreeTier"), QuotaLimiter.TierNames("free"));
        Assert.Equal(("paid_tier", "PaidTier"), QuotaLimiter.TierNames("paid-tier"));
        Assert.Equal(("tier_1", "Tier1"), QuotaLimiter.TierNames("tier-1"));
    }
}
