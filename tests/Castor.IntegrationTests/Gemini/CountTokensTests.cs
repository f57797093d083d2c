namespace Castor.IntegrationTests.Gemini;

[Collection(ServerCollection.Name)]
public sealed class CountTokensTests(CastorServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();

    [Fact]
    public async Task Count_tokens_agrees_with_the_prompt_count_of_generate_content()
    {
        const string contents = """ "contents":[{"role":"user","parts":[{"text":"The quick brown fox jumps over the lazy dog."}]}] """;
        var (status, count) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", "{" + contents + "}");
        var (_, generated) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", "{" + contents + ""","generationConfig":{"maxOutputTokens":1}}""");

        Assert.Equal(200, status);
        var total = count!["totalTokens"]!.GetValue<int>();
        Assert.True(total > 5);
        Assert.Equal(generated!["usageMetadata"]!["promptTokenCount"]!.GetValue<int>(), total);
        Assert.Equal(total, count["promptTokensDetails"]![0]!["tokenCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_whole_generate_content_request_counts_its_system_instruction_too()
    {
        var (_, plain) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", """{"contents":[{"parts":[{"text":"Hello there"}]}]}""");
        var (status, whole) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens",
            """{"generateContentRequest":{"model":"models/gemini-2.5-flash","contents":[{"parts":[{"text":"Hello there"}]}],"systemInstruction":{"parts":[{"text":"You are a storyteller."}]}}}""");
        Assert.Equal(200, status);
        Assert.True(whole!["totalTokens"]!.GetValue<int>() > plain!["totalTokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Count_tokens_on_an_unknown_model_is_404()
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/nope:countTokens", """{"contents":[{"parts":[{"text":"x"}]}]}""");
        Assert.Equal(404, status);
        Json.AssertRpcError(body, 404, "NOT_FOUND");
    }
}
