using Castor.Application.Errors;
using Castor.Application.Keys;
using Castor.Application.Quotas;
using Castor.IntegrationTests.Storage;
using Castor.Server;
using Castor.Storage.Relational;
using Microsoft.Extensions.Time.Testing;

namespace Castor.IntegrationTests.Quotas;

/// <summary>Two servers on one PostgreSQL database count against one total: together they admit no more than the limit.</summary>
[RequiresPostgres]
public sealed class QuotaPostgresTests : IAsyncLifetime
{
    private sealed class Node(string connectionString) : CastorServerFixture
    {
        protected override CastorOptions CreateOptions()
        {
            var options = base.CreateOptions();
            options.Storage = new StorageOptions { Postgres = connectionString };
            options.BuiltinEmbeddingModel = false;
            // Per day, so the test cannot straddle a window (the day turns at midnight Pacific, not every minute).
            options.Quotas = new QuotaOptions { DefaultTier = "free", Tiers = new() { ["free"] = new() { ["*"] = new QuotaLimits { Rpd = 5 } } } };
            return options;
        }
    }

    private string? _schema;
    private string? _connectionString;

    public async Task InitializeAsync()
    {
        if (PostgresTestDatabase.SkipReason is not null) return;
        (_connectionString, _schema) = await PostgresTestDatabase.CreateSchemaAsync();
    }

    public async Task DisposeAsync()
    {
        if (_schema is not null) await PostgresTestDatabase.DropSchemaAsync(_schema);
    }

    [StorageFact]
    public async Task Two_limiters_on_one_database_with_sixteen_clients_admit_exactly_the_rpm_limit_per_minute()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 10, 0, 0, TimeSpan.Zero));
        var options = new QuotaOptions { DefaultTier = "free", Tiers = new() { ["free"] = new() { ["*"] = new QuotaLimits { Rpm = 20 } } } };
        var one = await PostgresTestDatabase.OpenAsync(_connectionString!);
        var two = new Castor.Storage.Postgres.PostgresDatabase(_connectionString!);
        Assert.True(await new SqlProjectStore(one).CreateProjectAsync("team", null, clock.GetUtcNow()));
        var project = (await new SqlProjectStore(one).ListProjectsAsync()).Single().Id;
        var caller = new Caller(project, "team", "k") { TierKnown = true };
        QuotaLimiter[] limiters =
        [
            new(options, new SqlQuotaCounterStore(one), new SqlProjectStore(one), clock),
            new(options, new SqlQuotaCounterStore(two), new SqlProjectStore(two), clock),
        ];

        async Task<int> Client(int n)
        {
            var admitted = 0;
            for (var i = 0; i < 4; i++)
            {
                try
                {
                    await limiters[n % 2].AdmitAsync(caller, QuotaOperation.GenerateContent, "m", "m", 1, 1, CancellationToken.None);
                    admitted++;
                }
                catch (CastorException ex) when (ex.Status == ErrorStatus.ResourceExhausted) { }
            }
            return admitted;
        }

        Assert.Equal(20, (await Task.WhenAll(Enumerable.Range(0, 16).Select(n => Task.Run(() => Client(n))))).Sum());
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(20, (await Task.WhenAll(Enumerable.Range(0, 16).Select(n => Task.Run(() => Client(n))))).Sum());
    }

    [StorageFact]
    public async Task Two_nodes_on_one_database_together_hold_no_more_live_sessions_than_the_limit_and_a_dead_nodes_leases_expire()
    {
        var start = new DateTimeOffset(2026, 1, 5, 10, 0, 0, TimeSpan.Zero);
        var options = new QuotaOptions
        {
            DefaultTier = "free",
            Tiers = new() { ["free"] = new() { ["*"] = new QuotaLimits { Sessions = 3 } } },
            LiveSessionLease = TimeSpan.FromSeconds(30),
        };
        var one = await PostgresTestDatabase.OpenAsync(_connectionString!);
        var two = new Castor.Storage.Postgres.PostgresDatabase(_connectionString!);
        Assert.True(await new SqlProjectStore(one).CreateProjectAsync("live", null, start));
        var caller = new Caller((await new SqlProjectStore(one).ListProjectsAsync()).Single(p => p.Name == "live").Id, "live", "k") { TierKnown = true };
        LiveSessionQuota Node(IRelationalDatabase database, TimeProvider clock) =>
            new(new QuotaLimiter(options, new SqlQuotaCounterStore(database), new SqlProjectStore(database), clock), new SqlLiveSessionLeaseStore(database), clock);
        var nodes = new[] { Node(one, new FakeTimeProvider(start)), Node(two, new FakeTimeProvider(start)) };

        var slots = await Task.WhenAll(Enumerable.Range(0, 12).Select(n => Task.Run(async () =>
        {
            try { return await nodes[n % 2].StartSessionAsync(caller, "m", "m", CancellationToken.None); }
            catch (CastorException ex) when (ex.Status == ErrorStatus.ResourceExhausted) { return null; }
        })));
        Assert.Equal(3, slots.Count(s => s is not null));

        // Both nodes die without closing their sessions: a node that starts after the leases' lifetime has every slot.
        var later = Node(two, new FakeTimeProvider(start + options.LiveSessionLease + TimeSpan.FromSeconds(1)));
        var after = new List<LiveSessionSlot?>();
        for (var i = 0; i < 3; i++) after.Add(await later.StartSessionAsync(caller, "m", "m", CancellationToken.None));
        Assert.All(after, Assert.NotNull);
        await Assert.ThrowsAsync<CastorException>(() => later.StartSessionAsync(caller, "m", "m", CancellationToken.None));
        foreach (var slot in after) await slot!.DisposeAsync();
    }

    [StorageFact]
    public async Task Two_servers_together_admit_no_more_than_the_limit()
    {
        await using var a = new NodeScope(new Node(_connectionString!));
        await a.StartAsync();
        await using var b = new NodeScope(new Node(_connectionString!));
        await b.StartAsync();
        using var clientA = a.Node.CreateClient();
        using var clientB = b.Node.CreateClient();
        const string body = """{"contents":[{"parts":[{"text":"Once"}]}],"generationConfig":{"maxOutputTokens":1}}""";

        var statuses = await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
            (await (i % 2 == 0 ? clientA : clientB).PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", body)).Status));

        Assert.Equal(5, statuses.Count(s => s == 200));
        Assert.Equal(11, statuses.Count(s => s == 429));
    }

    private sealed class NodeScope(Node node) : IAsyncDisposable
    {
        public Node Node => node;

        public Task StartAsync() => node.InitializeAsync();

        public async ValueTask DisposeAsync() => await node.DisposeAsync();
    }
}
