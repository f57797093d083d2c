using Castor.Application.Batches;
using Castor.IntegrationTests.Storage;
using Castor.Server;
using Npgsql;

namespace Castor.IntegrationTests.Batches;

/// <summary>Two servers on one PostgreSQL database work one batch job together: both take requests, and none runs twice.</summary>
[RequiresPostgres]
public sealed class BatchPostgresTests : IAsyncLifetime
{
    private sealed class Node(string connectionString) : CastorServerFixture
    {
        protected override CastorOptions CreateOptions()
        {
            var options = base.CreateOptions();
            options.Storage = new StorageOptions { Postgres = connectionString };
            options.BuiltinEmbeddingModel = false;
            // One request at a time per node, so the job outlasts a poll and both nodes take part.
            options.Batches = new BatchOptions { MaxConcurrentRequests = 1, PollInterval = TimeSpan.FromMilliseconds(50), LeaseDuration = TimeSpan.FromSeconds(5) };
            return options;
        }
    }

    private Node? _a;
    private Node? _b;
    private string? _schema;
    private string? _connectionString;

    public async Task InitializeAsync()
    {
        if (PostgresTestDatabase.SkipReason is not null) return;
        (_connectionString, _schema) = await PostgresTestDatabase.CreateSchemaAsync();
        _a = new Node(_connectionString);
        await _a.InitializeAsync();
        _b = new Node(_connectionString);
        await _b.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        if (_a is not null) await _a.DisposeAsync();
        if (_b is not null) await _b.DisposeAsync();
        if (_schema is not null) await PostgresTestDatabase.DropSchemaAsync(_schema);
    }

    [StorageFact]
    public async Task Two_servers_share_one_job_and_no_request_runs_twice()
    {
        using var client = _a!.CreateClient();
        var operation = await BatchClient.CreateInlineAsync(client, Enumerable.Range(0, 24).Select(i => new { request = BatchClient.Request($"Tale {i}", 16) }));
        var name = operation["name"]!.GetValue<string>();
        var done = await BatchClient.WaitAsync(client, name);
        Assert.Equal("BATCH_STATE_SUCCEEDED", BatchClient.State(done));
        Assert.Equal(24, BatchClient.Stat(done, "successfulRequestCount"));

        // The other node answers for the same job.
        using var other = _b!.CreateClient();
        Assert.Equal("BATCH_STATE_SUCCEEDED", BatchClient.State((await other.GetJsonAsync("/v1beta/" + name)).Body!));

        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("SELECT lease_owner, attempts FROM batch_requests WHERE batch_id = @id", connection);
        query.Parameters.AddWithValue("id", name["batches/".Length..]);
        var rows = new List<(string Owner, int Attempts)>();
        await using (var reader = await query.ExecuteReaderAsync())
            while (await reader.ReadAsync()) rows.Add((reader.GetString(0), reader.GetInt32(1)));
        Assert.Equal(24, rows.Count);
        Assert.All(rows, r => Assert.Equal(1, r.Attempts));
        Assert.Equal(2, rows.Select(r => r.Owner).Distinct().Count());
    }
}
