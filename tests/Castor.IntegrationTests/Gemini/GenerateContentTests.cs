using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.Gemini;

[Collection(ServerCollection.Name)]
public sealed class GenerateContentTests(CastorServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();

    private const string Story = """{"contents":[{"role":"user","parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":24,"seed":7,"temperature":0.8}}""";

    [Fact]
    public async Task Generate_content_returns_a_model_candidate_with_usage()
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Story);

        Assert.Equal(200, status);
        var candidate = body!["candidates"]![0]!;
        Assert.Equal("model", candidate["content"]!["role"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(candidate["content"]!["parts"]![0]!["text"]!.GetValue<string>()));
        Assert.Equal(0, candidate["index"]!.GetValue<int>());
        Assert.Equal("MAX_TOKENS", candidate["finishReason"]!.GetValue<string>());
        var usage = body["usageMetadata"]!;
        Assert.Equal(24, usage["candidatesTokenCount"]!.GetValue<int>());
        Assert.Equal(usage["promptTokenCount"]!.GetValue<int>() + 24, usage["totalTokenCount"]!.GetValue<int>());
        Assert.Equal("TEXT", usage["promptTokensDetails"]![0]!["modality"]!.GetValue<string>());
        Assert.Equal("stories260k", body["modelVersion"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["responseId"]!.GetValue<string>()));
    }
}
