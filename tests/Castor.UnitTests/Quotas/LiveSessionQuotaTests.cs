using Castor.Application.Errors;
using Castor.Application.Keys;
using Castor.Application.Quotas;
using Castor.Storage.Relational;
using Castor.Storage.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Castor.UnitTests.Quotas;

/// <summary>Concurrent Live sessions per project and model on a real SQLite store, with clocks moved by hand: refusal, release, lease expiry, RPD per session start.</summary>
public sealed class LiveSessionQuotaTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 1, 5, 10, 0, 30, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "castor-live-quota-" + Guid.NewGuid().ToString("N")[..8]);
    private SqliteDatabase _database = null!;
    private Caller _caller = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        _database = new SqliteDatabase(_folder);
        await _database.MigrateAsync();
        var projects = new SqlProjectStore(_database);
        Assert.True(await projects.CreateProjectAsync("team", null, Start));
        _caller = new Caller((await projects.ListProjectsAsync()).Single().Id, "team", "k-1") { TierKnown = true };
    }

    public Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    /// <summary>One node: its own limiter and clock on the shared database.</summary>
    private LiveSessionQuota Node(QuotaLimits limits, TimeProvider clock)
    {
        var options = new QuotaOptions { DefaultTier = "free", Tiers = new() { ["free"] = new() { ["*"] = limits } }, LiveSessionLease = Lease };
        return new LiveSessionQuota(new QuotaLimiter(options, new SqlQuotaCounterStore(_database), new SqlProjectStore(_database), clock),
            new SqlLiveSessionLeaseStore(_database), clock);
    }

    private async Task<CastorException> RefusedAsync(LiveSessionQuota quota, string model = "m") =>
        await Assert.ThrowsAsync<CastorException>(() => quota.StartSessionAsync(_caller, model, model, CancellationToken.None));

    [Fact]
    public async Task Sessions_over_the_limit_are_refused_with_the_quota_error_and_a_closed_session_frees_its_slot()
    {
        var quota = Node(new QuotaLimits { Sessions = 2 }, new FakeTimeProvider(Start));
        var first = await quota.StartSessionAsync(_caller, "m", "m", CancellationToken.None);
        var second = await quota.StartSessionAsync(_caller, "m", "m", CancellationToken.None);
        Assert.NotNull(first);
        Assert.NotNull(second);

        var refused = await RefusedAsync(quota);
        Assert.Equal(ErrorStatus.ResourceExhausted, refused.Status);
        Assert.StartsWith("You exceeded your current quota, please check your plan and billing details.", refused.Message);
        var violation = Assert.Single(refused.Details.OfType<QuotaViolation>());
        Assert.Equal("generativelanguage.googleapis.com/bidi_generate_content_free_tier_concurrent_sessions", violation.QuotaMetric);
        Assert.Equal(2, violation.Value);
        Assert.Equal("m", violation.Dimensions!["model"]);

        // The limit is per model: another model has its own slots.
        await using (await quota.StartSessionAsync(_caller, "other", "other", CancellationToken.None)) { }

        await first!.DisposeAsync();
        await first.DisposeAsync();
        var third = await quota.StartSessionAsync(_caller, "m", "m", CancellationToken.None);
        Assert.NotNull(third);
        await RefusedAsync(quota);
        await second!.DisposeAsync();
        await third!.DisposeAsync();
    }

    [Fact]
    public async Task A_dead_nodes_session_holds_its_slot_until_its_lease_expires_and_a_renewed_lease_keeps_it()
    {
        var deadClock = new FakeTimeProvider(Start);
        var liveClock = new FakeTimeProvider(Start);
        var limits = new QuotaLimits { Sessions = 1 };
        // The dead node admitted a session, then stopped: its clock never moves again, so nothing renews the lease.
        Assert.NotNull(await Node(limits, deadClock).StartSessionAsync(_caller, "m", "m", CancellationToken.None));

        var other = Node(limits, liveClock);
        liveClock.Advance(Lease - TimeSpan.FromSeconds(1));
        await RefusedAsync(other);
        liveClock.Advance(TimeSpan.FromSeconds(2));
        var taken = await other.StartSessionAsync(_caller, "m", "m", CancellationToken.None);
        Assert.NotNull(taken);

        // A node that is alive renews its session's lease: past the first lease's end, the slot is still held.
        liveClock.Advance(Lease / 2);
        await taken!.RenewAsync();
        var third = Node(limits, new FakeTimeProvider(liveClock.GetUtcNow() + Lease - TimeSpan.FromSeconds(1)));
        await RefusedAsync(third);
        await taken.DisposeAsync();
        await using var after = await third.StartSessionAsync(_caller, "m", "m", CancellationToken.None);
        Assert.NotNull(after);
    }

    [Fact]
    public async Task Requests_per_day_count_session_starts_and_a_refused_start_holds_no_slot()
    {
        var quota = Node(new QuotaLimits { Sessions = 1, Rpd = 1 }, new FakeTimeProvider(Start));
        var first = await quota.StartSessionAsync(_caller, "m", "m", CancellationToken.None);
        await first!.DisposeAsync();

        var refused = await RefusedAsync(quota);
        Assert.Equal("generativelanguage.googleapis.com/generate_content_free_tier_requests", Assert.Single(refused.Details.OfType<QuotaViolation>()).QuotaMetric);
        Assert.Contains(refused.Details, d => d is RetryDelay);

        // The refused start gave its slot back: with the day's request allowance raised, a session gets the one slot.
        await using var next = await Node(new QuotaLimits { Sessions = 1, Rpd = 10 }, new FakeTimeProvider(Start)).StartSessionAsync(_caller, "m", "m", CancellationToken.None);
        Assert.NotNull(next);
    }

    [Fact]
    public async Task Without_a_sessions_limit_no_lease_is_taken()
    {
        var quota = Node(new QuotaLimits { Tpm = 100 }, new FakeTimeProvider(Start));
        Assert.Null(await quota.StartSessionAsync(_caller, "m", "m", CancellationToken.None));
    }

    [Fact]
    public async Task Concurrent_starts_on_two_nodes_take_no_more_slots_than_the_limit()
    {
        var clock = new FakeTimeProvider(Start);
        var nodes = new[] { Node(new QuotaLimits { Sessions = 3 }, clock), Node(new QuotaLimits { Sessions = 3 }, clock) };
        var slots = await Task.WhenAll(Enumerable.Range(0, 12).Select(n => Task.Run(async () =>
        {
            try { return await nodes[n % 2].StartSessionAsync(_caller, "m", "m", CancellationToken.None); }
            catch (CastorException ex) when (ex.Status == ErrorStatus.ResourceExhausted) { return null; }
        })));
        Assert.Equal(3, slots.Count(s => s is not null));
        foreach (var slot in slots) if (slot is not null) await slot.DisposeAsync();
    }
}

