using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Castor.IntegrationTests.Files;
using Microsoft.Data.Sqlite;

namespace Castor.IntegrationTests.Batches;

/// <summary>
/// A file batch survives a SIGKILL: after a restart on the same data folder the job completes with exactly one result
/// per request, and the results recorded before the kill are the ones in the output file.
/// </summary>
public sealed class BatchCrashTests : IDisposable
{
    private const string Key = "batch-crash-key-0001";
    private const int Requests = 200;
    private readonly string _data = Directory.CreateTempSubdirectory("castor-batch-crash").FullName;

    // Short leases: the requests the killed process held are claimed again two seconds after the restart.
    private static readonly Dictionary<string, string> Environment = new()
    {
        ["CASTOR_BATCHES__LEASE_DURATION"] = "00:00:02",
        ["CASTOR_BATCHES__POLL_INTERVAL"] = "00:00:00.100",
    };

    [Fact]
    public async Task A_file_batch_killed_mid_run_completes_after_restart_with_each_result_exactly_once()
    {
        string name;
        Dictionary<string, string> before;
        // The first server runs one request at a time, so the kill lands mid-run however fast the machine is (on a quiet
        // one, 200 short requests in parallel could all finish between two looks at the database).
        var oneAtATime = new Dictionary<string, string>(Environment) { ["CASTOR_BATCHES__MAX_CONCURRENT_REQUESTS"] = "1" };
        await using (var first = await CastorProcess.StartAsync(_data, Key, oneAtATime))
        {
            using var client = Client(first);
            var lines = Enumerable.Range(0, Requests).Select(i => BatchClient.Line($"k{i}", BatchClient.Request($"Story {i}", 12)));
            var input = await BatchClient.UploadJsonlAsync(client, lines);
            name = (await BatchClient.CreateFromFileAsync(client, input))["name"]!.GetValue<string>();

            // Kill once some results are durable, and not all of them.
            var deadline = DateTime.UtcNow.AddMinutes(2);
            do
            {
                before = await FinishedResultsAsync(name["batches/".Length..]);
                if (before.Count >= 20) break;
                await Task.Delay(10);
            } while (DateTime.UtcNow < deadline);
            await first.KillAsync();
            Assert.InRange(before.Count, 20, Requests - 1);
        }

        // Before any finalize, the killed process's part of the output holds only recorded results, each once, as the
        // database holds them: streamed after each commit, so at most the one request it ran when it died (recorded,
        // not yet appended) is missing, and at most its last line is torn.
        var recorded = await FinishedResultsAsync(name["batches/".Length..]);
        var parts = Directory.GetFiles(Path.Combine(_data, "files"), "*.part", SearchOption.AllDirectories)
            .Where(p => p.Contains($"{Path.DirectorySeparatorChar}.batches{Path.DirectorySeparatorChar}", StringComparison.Ordinal)).ToList();
        var part = Assert.Single(parts);
        var partText = await File.ReadAllTextAsync(part);
        // The last element is empty after a final newline, or the torn line.
        var wholeLines = partText.Split('\n')[..^1];
        var streamedKeys = new HashSet<string>();
        foreach (var line in wholeLines)
        {
            var node = JsonNode.Parse(line)!;
            var key = node["key"]!.GetValue<string>();
            Assert.True(streamedKeys.Add(key), $"{key} streamed twice");
            Assert.True(recorded.TryGetValue(key, out var result), $"{key} streamed but not recorded");
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(result), node["response"]), $"{key} streamed differently from its record");
        }
        Assert.InRange(streamedKeys.Count, recorded.Count - 1, recorded.Count);

        await using var second = await CastorProcess.StartAsync(_data, Key, Environment);
        using var resumed = Client(second);
        var done = await BatchClient.WaitAsync(resumed, name, TimeSpan.FromMinutes(3));
        Assert.Equal("BATCH_STATE_SUCCEEDED", BatchClient.State(done));
        Assert.Equal(Requests, BatchClient.Stat(done, "successfulRequestCount"));

        var responsesFile = done["metadata"]!["output"]!["responsesFile"]!.GetValue<string>();
        var text = await resumed.GetStringAsync($"/v1beta/{responsesFile}:download?alt=media");
        var output = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(Requests, output.Count);
        var byKey = output.ToDictionary(l => l["key"]!.GetValue<string>());
        Assert.Equal(Enumerable.Range(0, Requests).Select(i => $"k{i}").Order(), byKey.Keys.Order());
        foreach (var (key, result) in before)
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(result), byKey[key]["response"]), $"{key} changed after the restart");
        // Nothing was left behind half written.
        Assert.Empty(Directory.GetFiles(Path.Combine(_data, "files"), "*.part", SearchOption.AllDirectories));
    }

    /// <summary>The results the database holds for the job now, by key (read beside the running server, as WAL allows).</summary>
    private async Task<Dictionary<string, string>> FinishedResultsAsync(string batchId)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_data, "castor.db"),
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        await connection.OpenAsync();
        await using var query = connection.CreateCommand();
        query.CommandText = "SELECT request_key, result FROM batch_requests WHERE batch_id = $id AND state <> 'PENDING'";
        query.Parameters.AddWithValue("$id", batchId);
        var results = new Dictionary<string, string>();
        try
        {
            await using var reader = await query.ExecuteReaderAsync();
            while (await reader.ReadAsync()) results[reader.GetString(0)] = reader.GetString(1);
        }
        catch (SqliteException)
        {
            // Busy or not migrated yet: nothing finished as far as this look can tell.
        }
        return results;
    }

    private static HttpClient Client(CastorProcess castor)
    {
        var client = new HttpClient { BaseAddress = castor.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Add("x-goog-api-key", Key);
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    public void Dispose()
    {
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }
}
