using System.Text;
using System.Text.Json.Nodes;
using Castor.Application.Batches;
using Castor.Application.Errors;
using Castor.Application.Keys;
using Castor.Storage.Batches;
using Castor.Storage.Files;
using Castor.Storage.Relational;
using Castor.Storage.Sqlite;

namespace Castor.IntegrationTests.Batches;

/// <summary>
/// The streamed output file's finalize reconciles a node's part with the database, the commit log: a torn last line
/// and anything after a line the database does not hold (or a repeat) is cut, what the part lacks is written from the
/// database, and other nodes' parts are removed, so every key is in the file exactly once.
/// </summary>
public sealed class BatchOutputFileTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private readonly string _data = Directory.CreateTempSubdirectory("castor-batch-output").FullName;

    [Fact]
    public async Task A_torn_line_and_a_repeat_are_cut_and_the_missing_results_come_from_the_database()
    {
        var database = new SqliteDatabase(_data);
        await database.MigrateAsync();
        var store = new SqlBatchStore(database);
        var project = await new SqlKeyStore(database).EnsureProjectAsync("alpha");
        var job = new StoredBatch("job1", project, "generateContent", "test", "models/m", null, "files/input", null, BatchState.Pending, null, 0, false,
            T0, T0, null, T0.AddHours(48));
        await store.CreateAsync(job, Enumerable.Range(0, 5).Select(i => new NewBatchRequest($"k{i}", null, "{}", null)).ToAsyncEnumerable());
        var claimed = await store.ClaimAsync("node-a", T0, T0.AddMinutes(1), 10);
        Assert.All(claimed, c => Assert.True(c.WritesFile));
        Assert.Equal(["k0", "k1", "k2", "k3", "k4"], claimed.Select(c => c.Key));
        foreach (var request in claimed)
            Assert.True(await store.CompleteRequestAsync("node-a", request.Id, new BatchRequestResult(true, $"{{\"n\":{request.Id.Position}}}", 1, 1), T0));

        var dialect = new LineDialect();
        var content = new FileContentStore(Path.Combine(_data, "files"));
        using var output = new BatchOutputFile(content, "node-b");
        // This node streamed k0 and k1, then k0 again (never done, but a repeat must not reach the file), then died
        // writing k2: its line is torn.
        foreach (var position in new[] { 0, 1, 0 })
            await output.AppendAsync(project, "job1", dialect.Line(position), CancellationToken.None);
        var torn = Encoding.UTF8.GetBytes(dialect.Line(2))[..7];
        await using (var part = content.OpenBatchPart(project, "job1", "node-b"))
        {
            part.Position = part.Length;
            await part.WriteAsync(torn);
        }
        // Another process streamed k3 before it died.
        await new BatchOutputFile(content, "node-c").AppendAsync(project, "job1", dialect.Line(3), CancellationToken.None);

        var written = await output.FinalizeAsync((await store.FindAsync("job1"))!, dialect, store, "batch-job1", CancellationToken.None);

        var lines = (await File.ReadAllTextAsync(content.FilePath(project, "batch-job1"))).Split('\n');
        Assert.Equal("", lines[^1]);
        // What the part held first, then the rest in input order, each key once.
        Assert.Equal(["k0", "k1", "k2", "k3", "k4"], lines[..^1].Select(l => JsonNode.Parse(l)!["key"]!.GetValue<string>()));
        Assert.Equal(lines[..^1], new[] { 0, 1, 2, 3, 4 }.Select(dialect.Line));
        Assert.Equal(2, written.Streamed);
        Assert.Equal(3, written.Filled);
        Assert.Equal(Encoding.UTF8.GetByteCount(dialect.Line(0) + "\n") + torn.Length, written.CutBytes);
        Assert.Equal(new FileInfo(content.FilePath(project, "batch-job1")).Length, written.Size);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(content.FilePath(project, "batch-job1"))), written.Sha256);
        Assert.Empty(content.BatchPartPaths(project, "job1"));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }

    /// <summary>A dialect that only writes output lines, as Gemini's do: the key and the recorded result.</summary>
    private sealed class LineDialect : IBatchDialect
    {
        public string Name => "test";

        public string Line(int position) => $"{{\"key\":\"k{position}\",\"response\":{{\"n\":{position}}}}}";

        public string OutputLine(BatchKind kind, StoredBatchRequest request) => $"{{\"key\":\"{request.Key}\",\"response\":{request.Result}}}";

        public NewBatchRequest ParseLine(BatchKind kind, string model, string line, long lineNumber) => throw new NotSupportedException();

        public Castor.Application.Generation.GenerationRequest? ToGenerationRequest(BatchKind kind, string model, string request) =>
            throw new NotSupportedException();

        public Task<BatchRequestResult> RunAsync(Caller caller, BatchKind kind, string model, string request, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public string ErrorJson(CastorException error) => throw new NotSupportedException();
    }
}
