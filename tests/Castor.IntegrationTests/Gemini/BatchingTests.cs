using Castor.Server;

namespace Castor.IntegrationTests.Gemini;

[Collection(ServerCollection.Name)]
public sealed class CandidatesAndCachingTests(CastorServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();

    [Fact]
    public async Task Candidate_count_returns_that_many_indexed_candidates()
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent",
            """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"candidateCount":3,"maxOutputTokens":12,"seed":21}}""");
        Assert.Equal(200, status);
        var candidates = body!["candidates"]!.AsArray();
        Assert.Equal([0, 1, 2], candidates.Select(c => c!["index"]!.GetValue<int>()));
        Assert.Equal(3, candidates.Select(c => c!["content"]!["parts"]![0]!["text"]!.GetValue<string>()).Distinct().Count());
        Assert.Equal(36, body["usageMetadata"]!["candidatesTokenCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task Streamed_candidates_carry_their_index()
    {
        using var response = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            Json.Body("""{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"candidateCount":2,"maxOutputTokens":20,"seed":4}}"""));
        var raw = await response.Content.ReadAsStringAsync();
        var indexes = raw.Split("\r\n\r\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.TrimStart('\r', '\n')).Where(e => e.Length > 0)
            .Select(e => System.Text.Json.Nodes.JsonNode.Parse(e["data: ".Length..])!["candidates"]![0]!)
            .Where(c => c["finishReason"] is not null)
            .Select(c => c["index"]!.GetValue<int>()).Order();
        Assert.Equal([0, 1], indexes);
    }

    [Fact]
    public async Task Eight_candidates_fit_the_default_parallelism_of_a_2K_context()
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent",
            """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"candidateCount":8,"maxOutputTokens":4}}""");
        Assert.Equal(200, status);
        Assert.Equal(8, body!["candidates"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_repeated_prefix_is_reported_as_cached_content_tokens()
    {
        var system = string.Concat(Enumerable.Repeat("You tell gentle stories about animals in the forest. ", 20));
        string Body(string question) => $$$"""{"systemInstruction":{"parts":[{"text":"{{{system}}}"}]},"contents":[{"parts":[{"text":"{{{question}}}"}]}],"generationConfig":{"maxOutputTokens":4}}""";

        await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Body("Tell me about a fox."));
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Body("Tell me about an owl."));

        Assert.Equal(200, status);
        var usage = body!["usageMetadata"]!;
        var cached = usage["cachedContentTokenCount"]!.GetValue<int>();
        Assert.True(cached > 100, $"cachedContentTokenCount was {cached}");
        Assert.True(cached < usage["promptTokenCount"]!.GetValue<int>());
    }
}

public sealed class TinyServerFixture : CastorServerFixture
{
    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.Parallel = 1;
        options.MaxQueue = 1;
        // The default per-key limit (sized from these two) would answer one key's burst with 429 before the queue
        // fills; this server shows what the queue bound itself does.
        options.Limits = new LimitsOptions { MaxConcurrentRequestsPerKey = 16, MaxConcurrentRequestsPerProject = 16 };
        return options;
    }
}

/// <summary>A server with one sequence and a one-place queue, to show what overload looks like.</summary>
public sealed class OverloadTests(TinyServerFixture server) : IClassFixture<TinyServerFixture>
{
    [Fact]
    public async Task Past_the_wait_queue_requests_get_503_UNAVAILABLE_at_once()
    {
        using var client = server.CreateClient();
        const string longStory = """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":1500}}""";
        var calls = Enumerable.Range(0, 6).Select(_ => client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", longStory)).ToList();
        var results = await Task.WhenAll(calls);

        var overloaded = results.Where(r => r.Status == 503).ToList();
        Assert.NotEmpty(overloaded);
        Assert.Contains(results, r => r.Status == 200);
        var error = Json.AssertRpcError(overloaded[0].Body, 503, "UNAVAILABLE");
        Assert.Equal("The model is overloaded. Please try again later.", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Candidates_beyond_the_parallel_sequences_are_refused_with_a_hint()
    {
        using var client = server.CreateClient();
        var (status, body) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent",
            """{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"candidateCount":2}}""");
        Assert.Equal(400, status);
        Assert.Contains("--parallel 2", Json.AssertRpcError(body, 400, "INVALID_ARGUMENT")["message"]!.GetValue<string>());
    }
}
