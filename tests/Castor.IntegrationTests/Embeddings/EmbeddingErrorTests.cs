using System.Text.Json.Nodes;
using static Castor.IntegrationTests.Embeddings.EmbeddingClient;

namespace Castor.IntegrationTests.Embeddings;

/// <summary>Refusals in the Google RPC shape, with the API's status and the offending field.</summary>
[Collection(EmbeddingCollection.Name)]
public sealed class EmbeddingErrorTests(EmbeddingServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();

    private static string FieldOf(JsonNode error) =>
        error["details"]![0]!["fieldViolations"]![0]!["field"]!.GetValue<string>();

    private async Task<JsonNode> AssertInvalidAsync(string path, string body, string? field = null)
    {
        var (status, reply) = await _client.PostAsync(path, body);
        Assert.True(status == 400, reply?.ToJsonString());
        var error = Json.AssertRpcError(reply, 400, "INVALID_ARGUMENT");
        if (field is not null) Assert.Equal(field, FieldOf(error));
        return error;
    }

    [Fact]
    public Task A_batch_request_naming_another_model_than_the_url_is_400() =>
        AssertInvalidAsync("/v1beta/models/gemini-embedding-001:batchEmbedContents",
            "{\"requests\":[" + Request("gemini-embedding-001", "a") + "," + Request("text-embedding-004", "b") + "]}", "requests[1].model");

    [Fact]
    public Task An_embed_content_body_naming_another_model_than_the_url_is_400() =>
        AssertInvalidAsync("/v1beta/models/gemini-embedding-001:embedContent", Request("stories-embed", "a"), "model");

    [Theory]
    [InlineData("""{"content":{"parts":[{"text":""}]}}""", "content.parts[0].text")]
    [InlineData("""{"content":{"parts":[]}}""", "content.parts")]
    [InlineData("""{"taskType":"RETRIEVAL_QUERY"}""", "content")]
    [InlineData("""{"content":{"parts":[{}]}}""", "content.parts[0]")]
    [InlineData("""{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}]}}""", "content.parts[0].inlineData")]
    [InlineData("""{"content":{"parts":[{"text":"x"}]},"taskType":"SEARCH"}""", "taskType")]
    [InlineData("""{"content":{"parts":[{"text":"x"}]},"taskType":"RETRIEVAL_QUERY","title":"T"}""", "title")]
    [InlineData("""{"content":{"parts":[{"text":"x"}]},"outputDimensionality":385}""", "outputDimensionality")]
    [InlineData("""{"content":{"parts":[{"text":"x"}]},"outputDimensionality":-4}""", "outputDimensionality")]
    public Task An_invalid_embed_content_request_is_400_naming_the_field(string body, string field) =>
        AssertInvalidAsync("/v1beta/models/gemini-embedding-001:embedContent", body, field);

    [Fact]
    public async Task Output_dimensionality_up_to_the_models_size_is_fine_and_one_more_is_not()
    {
        var (ok, _) = await _client.PostAsync("/v1beta/models/gemini-embedding-001:embedContent", """{"content":{"parts":[{"text":"x"}]},"outputDimensionality":384}""");
        Assert.Equal(200, ok);
        var error = await AssertInvalidAsync("/v1beta/models/stories-embed:embedContent", """{"content":{"parts":[{"text":"x"}]},"outputDimensionality":65}""", "outputDimensionality");
        Assert.Contains("64", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task More_than_100_requests_in_a_batch_is_400()
    {
        var error = await AssertInvalidAsync("/v1beta/models/gemini-embedding-001:batchEmbedContents",
            Batch("gemini-embedding-001", Enumerable.Range(0, 101).Select(i => "t" + i).ToArray()), "requests");
        Assert.Contains("at most 100", error["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"requests":[]}""", "requests")]
    [InlineData("""{}""", "requests")]
    [InlineData("""{"requests":[null]}""", "requests[0]")]
    [InlineData("""{"requests":[{"content":{"parts":[{"text":"ok"}]}},{"content":{"parts":[{"text":"x"}]},"outputDimensionality":999}]}""", "requests[1].outputDimensionality")]
    public Task An_invalid_batch_is_400_naming_the_field(string body, string field) =>
        AssertInvalidAsync("/v1beta/models/gemini-embedding-001:batchEmbedContents", body, field);

    [Theory]
    [InlineData("/v1beta/models/stories260k:embedContent")]
    [InlineData("/v1beta/models/gemini-2.5-flash:embedContent")]
    [InlineData("/v1beta/models/gemini-2.5-flash:batchEmbedContents")]
    public async Task A_generative_model_refuses_embedding_with_400(string path)
    {
        var body = path.EndsWith("batchEmbedContents", StringComparison.Ordinal)
            ? """{"requests":[{"content":{"parts":[{"text":"x"}]}}]}"""
            : """{"content":{"parts":[{"text":"x"}]}}""";
        var error = await AssertInvalidAsync(path, body);
        Assert.Contains("generative model", error["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/v1beta/models/text-embedding-minilm:generateContent")]
    [InlineData("/v1beta/models/stories-embed:generateContent")]
    [InlineData("/v1beta/models/gemini-embedding-001:streamGenerateContent?alt=sse")]
    [InlineData("/v1beta/models/story-embedder:countTokens")]
    public async Task An_embedding_model_refuses_generation_with_404_as_the_api_does(string path)
    {
        var (status, body) = await _client.PostAsync(path, """{"contents":[{"parts":[{"text":"x"}]}]}""");
        Assert.Equal(404, status);
        Json.AssertRpcError(body, 404, "NOT_FOUND");
    }

    [Fact]
    public async Task An_unknown_model_is_404()
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/no-such-embedder:embedContent", """{"content":{"parts":[{"text":"x"}]}}""");
        Assert.Equal(404, status);
        var error = Json.AssertRpcError(body, 404, "NOT_FOUND");
        Assert.Contains("embedContent", error["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"content":{"parts":[{"text":"x"}]},"outputDimensionality":"many"}""")]
    [InlineData("""{"content":""")]
    [InlineData("""{"requests":{"content":{}}}""")]
    public async Task Malformed_json_is_400(string body)
    {
        var path = body.Contains("requests", StringComparison.Ordinal) ? "batchEmbedContents" : "embedContent";
        var (status, reply) = await _client.PostAsync($"/v1beta/models/gemini-embedding-001:{path}", body);
        Assert.Equal(400, status);
        Json.AssertRpcError(reply, 400, "INVALID_ARGUMENT");
    }
}
