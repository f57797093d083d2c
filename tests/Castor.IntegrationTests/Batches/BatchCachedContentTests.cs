using Castor.IntegrationTests.Caching;

namespace Castor.IntegrationTests.Batches;

/// <summary>A batch request that names a cachedContent runs on the cache, as online; a cache of another project is not found.</summary>
[Collection(BatchCollection.Name)]
public sealed class BatchCachedContentTests(BatchServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();

    private static object Question(string cachedContent) => new
    {
        cachedContent,
        contents = new[] { new { role = "user", parts = new[] { new { text = "What did Lily find?" } } } },
        generationConfig = new { maxOutputTokens = 4, temperature = 0 },
    };

    [Fact]
    public async Task A_batch_request_naming_a_cache_of_its_project_reports_the_cached_tokens()
    {
        var (status, cache) = await _client.PostAsync("/v1beta/cachedContents", CachedContentTests.CreateBody());
        Assert.True(status == 200, cache?.ToJsonString());
        var name = (string)cache!["name"]!;
        var cacheTokens = (int)cache["usageMetadata"]!["totalTokenCount"]!;

        var operation = await BatchClient.CreateInlineAsync(_client, [new { request = Question(name) }, new { request = BatchClient.Request("Once upon a time") }]);
        var done = await BatchClient.WaitAsync(_client, operation["name"]!.GetValue<string>());

        Assert.Equal("BATCH_STATE_SUCCEEDED", BatchClient.State(done));
        var responses = done["metadata"]!["output"]!["inlinedResponses"]!["inlinedResponses"]!.AsArray();
        var usage = responses[0]!["response"]!["usageMetadata"]!;
        Assert.Equal(cacheTokens, (int)usage["cachedContentTokenCount"]!);
        Assert.True((int)usage["promptTokenCount"]! > cacheTokens);

        using var other = server.CreateClient(server.OtherProjectKey);
        var foreign = await BatchClient.CreateInlineAsync(other, [new { request = BatchClient.Request("Once upon a time") }, new { request = Question(name) }]);
        var foreignDone = await BatchClient.WaitAsync(other, foreign["name"]!.GetValue<string>());
        var foreignResponses = foreignDone["metadata"]!["output"]!["inlinedResponses"]!["inlinedResponses"]!.AsArray();
        Assert.NotNull(foreignResponses[0]!["response"]);
        Assert.Null(foreignResponses[1]!["response"]);
        Assert.NotNull(foreignResponses[1]!["error"]);
    }
}
