using Castor.Storage.Batches;
using Castor.Storage.Relational;
using Castor.Storage.Sqlite;

namespace Castor.IntegrationTests.Storage;

/// <summary>
/// The batch store's leases and once-only results, run against SQLite and PostgreSQL by the two classes below: what
/// lets several nodes work one job without running a request twice.
/// </summary>
public abstract class BatchStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 12, 0, 0, 123, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);

    protected IRelationalDatabase Database { get; set; } = null!;
    private SqlBatchStore Batches => new(Database);

    public abstract Task InitializeAsync();
    public abstract Task DisposeAsync();

    private async Task<StoredBatch> CreateAsync(int requests, string id = "job1")
    {
        var project = await new SqlKeyStore(Database).EnsureProjectAsync("alpha");
        var batch = new StoredBatch(id, project, "generateContent", "gemini", "models/m", null, null, null, BatchState.Pending, null, 0, false, T0, T0, null, T0.AddHours(48));
        return await Batches.CreateAsync(batch, Enumerable.Range(0, requests).Select(i => new NewBatchRequest($"k{i}", null, "{}", null)).ToAsyncEnumerable());
    }

    [StorageFact]
    public async Task A_claimed_request_is_not_claimed_again_until_its_lease_lapses()
    {
        await CreateAsync(3);
        var first = await Batches.ClaimAsync("a", T0, T0 + Lease, 10);
        Assert.Equal([0L, 1L, 2L], first.Select(c => c.Id.Position));
        Assert.All(first, c => Assert.Equal(1, c.Attempts));
        Assert.Equal(BatchState.Running, (await Batches.FindAsync("job1"))!.State);

        Assert.Empty(await Batches.ClaimAsync("b", T0.AddSeconds(9), T0.AddSeconds(19), 10));
        var again = await Batches.ClaimAsync("b", T0.AddSeconds(11), T0.AddSeconds(21), 10);
        Assert.Equal(3, again.Count);
        Assert.All(again, c => Assert.Equal(2, c.Attempts));
    }

    [StorageFact]
    public async Task A_renewed_lease_keeps_the_request()
    {
        await CreateAsync(1);
        var claimed = await Batches.ClaimAsync("a", T0, T0 + Lease, 10);
        await Batches.RenewAsync("a", [claimed[0].Id], T0.AddSeconds(30));
        Assert.Empty(await Batches.ClaimAsync("b", T0.AddSeconds(20), T0.AddSeconds(30), 10));
    }

    [StorageFact]
    public async Task A_result_is_accepted_once_and_only_from_the_lease_holder()
    {
        await CreateAsync(1);
        var id = (await Batches.ClaimAsync("a", T0, T0 + Lease, 10))[0].Id;
        await Batches.ClaimAsync("b", T0.AddSeconds(11), T0.AddSeconds(21), 10);

        Assert.False(await Batches.CompleteRequestAsync("a", id, new BatchRequestResult(true, "{\"from\":\"a\"}", 1, 1), T0.AddSeconds(12)));
        Assert.True(await Batches.CompleteRequestAsync("b", id, new BatchRequestResult(true, "{\"from\":\"b\"}", 3, 4), T0.AddSeconds(12)));
        Assert.False(await Batches.CompleteRequestAsync("b", id, new BatchRequestResult(false, "{}", 0, 0), T0.AddSeconds(13)));

        var stored = await Batches.ReadRequestsAsync("job1").ToListAsync();
        Assert.Equal("{\"from\":\"b\"}", stored.Single().Result);
        Assert.Equal(new BatchCounts(1, 0, 0, 3, 4), await Batches.CountAsync("job1"));
    }

    [StorageFact]
    public async Task Concurrent_claims_never_share_a_request()
    {
        await CreateAsync(40);
        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Batches.ClaimAsync($"n{i}", T0, T0 + Lease, 7)));
        var positions = claims.SelectMany(c => c).Select(c => c.Id.Position).ToList();
        Assert.Equal(positions.Count, positions.Distinct().Count());
        Assert.Equal(40, positions.Count);
    }

    [StorageFact]
    public async Task A_finished_job_is_finalized_once_and_a_cancelled_one_keeps_its_state()
    {
        await CreateAsync(1);
        await CreateAsync(2, "job2");
        var id = (await Batches.ClaimAsync("a", T0, T0 + Lease, 1))[0].Id;
        Assert.Equal("job1", id.BatchId);
        Assert.Empty(await Batches.ClaimFinalizeAsync("a", T0, T0 + Lease, 10));
        await Batches.CompleteRequestAsync("a", id, new BatchRequestResult(true, "{}", 1, 1), T0);
        await Batches.CancelAsync((await Batches.FindAsync("job2"))!.ProjectId, "job2", T0);

        var ready = await Batches.ClaimFinalizeAsync("a", T0, T0 + Lease, 10);
        Assert.Equal(["job1", "job2"], ready.Select(b => b.Id).Order());
        Assert.Empty(await Batches.ClaimFinalizeAsync("b", T0, T0 + Lease, 10));
        Assert.False(await Batches.FinalizeAsync("b", "job1", null, BatchState.Succeeded, T0));
        Assert.True(await Batches.FinalizeAsync("a", "job1", null, BatchState.Succeeded, T0));
        Assert.True(await Batches.FinalizeAsync("a", "job2", null, BatchState.Succeeded, T0));
        Assert.False(await Batches.FinalizeAsync("a", "job1", null, BatchState.Succeeded, T0));

        Assert.Equal(BatchState.Succeeded, (await Batches.FindAsync("job1"))!.State);
        Assert.Equal(BatchState.Cancelled, (await Batches.FindAsync("job2"))!.State);
        // A cancelled job's waiting requests are never claimed.
        Assert.Empty(await Batches.ClaimAsync("a", T0.AddMinutes(1), T0.AddMinutes(2), 10));
    }

    [StorageFact]
    public async Task Enqueued_tokens_add_up_per_model_and_a_claimed_request_names_the_key_that_submitted_its_job()
    {
        var project = await new SqlKeyStore(Database).EnsureProjectAsync("alpha");
        var gemini = new StoredBatch("g", project, "generateContent", "gemini", "models/m", null, null, null, BatchState.Pending, null, 0, false, T0, T0, null,
            T0.AddHours(48)) { SubmitterKeyId = "k-9" };
        await Batches.CreateAsync(gemini, new[]
        {
            new NewBatchRequest("a", null, "{\"a\":1}", null) { EnqueuedTokens = 10, EnqueuedModel = "m-local" },
            new NewBatchRequest("b", null, "{\"b\":1}", null) { EnqueuedTokens = 10, EnqueuedModel = "m-local" },
            // Stored uncounted: its 8 characters stand in, at four a token.
            new NewBatchRequest("c", null, "{\"c\":12}", null),
            new NewBatchRequest("d", null, null, "{\"error\":{}}"),
        }.ToAsyncEnumerable());
        // An OpenAI job names no model of its own; each request was counted for its own.
        var openai = gemini with { Id = "o", Dialect = "openai", Model = "", SubmitterKeyId = null };
        await Batches.CreateAsync(openai, new[]
        {
            new NewBatchRequest("1", null, "{}", null) { EnqueuedTokens = 7, EnqueuedModel = "m-local" },
            new NewBatchRequest("2", null, "{}", null) { EnqueuedTokens = 100, EnqueuedModel = "other" },
        }.ToAsyncEnumerable());

        var backlog = new SqlBatchBacklogStore(Database);
        Assert.Equal(10 + 10 + 2 + 7, await backlog.EnqueuedTokensAsync(project, "m-local", "models/m"));
        Assert.Equal(100, await backlog.EnqueuedTokensAsync(project, "other", "models/other"));
        Assert.Equal(0, await backlog.EnqueuedTokensAsync(await new SqlKeyStore(Database).EnsureProjectAsync("beta"), "m-local", "models/m"));

        var claimed = await Batches.ClaimAsync("a", T0, T0 + Lease, 10);
        Assert.Equal(["k-9", "k-9", "k-9", null, null], claimed.Select(c => c.SubmitterKeyId));
        await Batches.CompleteRequestAsync("a", claimed[0].Id, new BatchRequestResult(true, "{}", 10, 1), T0.AddSeconds(1));
        Assert.Equal(10 + 2 + 7, await backlog.EnqueuedTokensAsync(project, "m-local", "models/m"));
    }
}

public sealed class SqliteBatchStoreTests : BatchStoreContractTests
{
    private readonly string _folder = Directory.CreateTempSubdirectory("castor-batch-store").FullName;

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
public sealed class PostgresBatchStoreTests : BatchStoreContractTests
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
