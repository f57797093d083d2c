using System.Text.Json;
using Castor.IntegrationTests.Files;
using Castor.Server;

namespace Castor.IntegrationTests.Storage;

/// <summary>The whole server on PostgreSQL: keys seeded and checked, a file uploaded, listed and used in a prompt.</summary>
[RequiresPostgres]
public sealed class PostgresServerTests : IAsyncLifetime
{
    private sealed class PostgresServer(string connectionString) : CastorServerFixture
    {
        protected override CastorOptions CreateOptions()
        {
            var options = base.CreateOptions();
            options.Storage = new StorageOptions { Postgres = connectionString };
            options.BuiltinEmbeddingModel = false;
            return options;
        }
    }

    private PostgresServer? _server;
    private string? _schema;

    public async Task InitializeAsync()
    {
        if (PostgresTestDatabase.SkipReason is not null) return;
        var (connectionString, schema) = await PostgresTestDatabase.CreateSchemaAsync();
        _schema = schema;
        _server = new PostgresServer(connectionString);
        await _server.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_schema is not null) await PostgresTestDatabase.DropSchemaAsync(_schema);
    }

    [StorageFact]
    public async Task Keys_and_files_live_in_postgres()
    {
        var server = _server!;
        Assert.Contains("PostgreSQL: 127.0.0.1", server.Console.ToString());
        using var client = server.CreateClient();
        var file = await Uploads.UploadAsync(client, "Lily had a red ball."u8.ToArray(), "text/plain", chunkSize: 8);
        var name = file.GetProperty("name").GetString()!;

        var (status, listing) = await client.GetJsonAsync("/v1beta/files");
        Assert.Equal(200, status);
        Assert.Equal(name, (string)listing!["files"]![0]!["name"]!);
        var (countStatus, count) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens",
            JsonSerializer.Serialize(new { contents = new[] { new { parts = new object[] { new { fileData = new { fileUri = name } } } } } }));
        Assert.Equal(200, countStatus);
        Assert.True((int)count!["totalTokens"]! > 0);

        using var unknown = server.CreateClient("not-a-key");
        var (denied, error) = await unknown.GetJsonAsync("/v1beta/files");
        Assert.Equal(400, denied);
        Json.AssertRpcError(error, 400, "INVALID_ARGUMENT");
    }
}
