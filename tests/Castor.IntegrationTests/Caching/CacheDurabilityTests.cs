using System.Net.Http.Headers;
using Castor.IntegrationTests.Files;

namespace Castor.IntegrationTests.Caching;

/// <summary>A cache survives SIGKILL: the restarted server restores its KV snapshot from the data folder and answers the same.</summary>
public sealed class CacheDurabilityTests : IDisposable
{
    private const string Key = "cache-durability-key";
    private readonly string _data = Path.Combine(Path.GetTempPath(), "castor-cache-kill-" + Guid.NewGuid().ToString("N")[..8]);

    private static readonly Dictionary<string, string> Environment = new()
    {
        ["CASTOR_MODEL_SETTINGS__STORIES260K__MIN_CACHE_TOKENS"] = "64",
    };

    [Fact]
    public async Task A_cache_answers_the_same_after_the_server_is_killed_and_restarted()
    {
        Directory.CreateDirectory(_data);
        string name, before, snapshotPath;
        DateTime written;
        await using (var first = await CastorProcess.StartAsync(_data, Key, Environment))
        {
            using var client = Client(first);
            var (status, created) = await client.PostAsync("/v1beta/cachedContents", CachedContentTests.CreateBody());
            Assert.True(status == 200, created?.ToJsonString());
            name = (string)created!["name"]!;
            snapshotPath = Directory.GetFiles(Path.Combine(_data, "caches"), "*.kv", SearchOption.AllDirectories).Single();
            written = File.GetLastWriteTimeUtc(snapshotPath);
            var (answered, answer) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", CachedContentTests.QuestionBody(name));
            Assert.True(answered == 200, answer?.ToJsonString());
            before = answer!.ToJsonString();
            await first.KillAsync();
        }

        await using var second = await CastorProcess.StartAsync(_data, Key, Environment);
        // The banner's last line follows the address the start waited for.
        for (var i = 0; i < 200 && !second.Output.Contains("Press Ctrl+C"); i++) await Task.Delay(50);
        Assert.Contains("Caches        1 cached contents", second.Output);
        using var resumed = Client(second);
        var (status2, after) = await resumed.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", CachedContentTests.QuestionBody(name));
        Assert.True(status2 == 200, after?.ToJsonString());
        Assert.Equal(Candidates(before), Candidates(after!.ToJsonString()));
        // Restored from the file as written before the kill, not computed again (that would rewrite it).
        Assert.Equal(written, File.GetLastWriteTimeUtc(snapshotPath));
        Assert.Empty(Directory.GetFiles(Path.Combine(_data, "caches"), "*.tmp", SearchOption.AllDirectories));
    }

    private static string Candidates(string response) => System.Text.Json.Nodes.JsonNode.Parse(response)!["candidates"]!.ToJsonString();

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
