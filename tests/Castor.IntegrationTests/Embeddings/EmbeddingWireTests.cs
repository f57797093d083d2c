using static Castor.IntegrationTests.Embeddings.EmbeddingClient;

namespace Castor.IntegrationTests.Embeddings;

/// <summary>The exact bodies @google/genai, ai-sdk and LangChain send (wire-contract.md §2.4), and the reply shapes each one reads.</summary>
[Collection(EmbeddingCollection.Name)]
public sealed class EmbeddingWireTests(EmbeddingServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();

    [Fact]
    public async Task Ai_sdk_embed_gets_embedding_values_from_embed_content()
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-embedding-001:embedContent",
            """{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"hello world"}]},"outputDimensionality":16,"taskType":"RETRIEVAL_QUERY"}""");
        Assert.Equal(200, status);
        Assert.Equal(16, Single(body).Length);
        Assert.Null(body!["embeddings"]);
        Assert.True(body["usageMetadata"]!["promptTokenCount"]!.GetValue<int>() > 0);
    }

    [Fact]
    public async Task LangChain_embed_query_sends_no_model_in_the_body()
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-embedding-001:embedContent",
            """{"content":{"role":"user","parts":[{"text":"hello"}]},"taskType":"RETRIEVAL_QUERY"}""");
        Assert.Equal(200, status);
        Assert.Equal(384, Single(body).Length);
    }

    [Fact]
    public async Task Genai_embed_content_with_one_string_gets_embeddings_from_batch_embed_contents()
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-embedding-001:batchEmbedContents",
            """{"requests":[{"content":{"role":"user","parts":[{"text":"hello world"}]},"taskType":"RETRIEVAL_QUERY","outputDimensionality":16,"model":"models/gemini-embedding-001"}]}""");
        Assert.Equal(200, status);
        Assert.Equal(16, Assert.Single(Many(body)).Length);
        Assert.Null(body!["embedding"]);
    }

    [Fact]
    public async Task Genai_embed_content_with_several_strings_and_a_title_gets_one_embedding_each()
    {
        var request = (string text) => $$"""{"content":{"role":"user","parts":[{"text":"{{text}}"}]},"taskType":"RETRIEVAL_DOCUMENT","title":"Doc title","outputDimensionality":4,"model":"models/gemini-embedding-001"}""";
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-embedding-001:batchEmbedContents",
            $$"""{"requests":[{{request("first text")}},{{request("second text")}},{{request("third")}}]}""");
        Assert.Equal(200, status);
        var vectors = Many(body);
        Assert.Equal(3, vectors.Length);
        Assert.All(vectors, v => Assert.Equal(4, v.Length));
    }

    [Fact]
    public async Task Ai_sdk_embed_many_and_LangChain_embed_documents_get_embeddings_in_order()
    {
        var (aiStatus, aiBody) = await _client.PostAsync("/v1beta/models/gemini-embedding-001:batchEmbedContents",
            """{"requests":[{"model":"models/gemini-embedding-001","content":{"role":"user","parts":[{"text":"a"}]},"outputDimensionality":4,"taskType":"RETRIEVAL_DOCUMENT"},{"model":"models/gemini-embedding-001","content":{"role":"user","parts":[{"text":"b"}]},"outputDimensionality":4,"taskType":"RETRIEVAL_DOCUMENT"},{"model":"models/gemini-embedding-001","content":{"role":"user","parts":[{"text":"c"}]},"outputDimensionality":4,"taskType":"RETRIEVAL_DOCUMENT"}]}""");
        var (lcStatus, lcBody) = await _client.PostAsync("/v1beta/models/gemini-embedding-001:batchEmbedContents",
            """{"requests":[{"content":{"role":"user","parts":[{"text":"a"}]},"model":"models/gemini-embedding-001"},{"content":{"role":"user","parts":[{"text":"b"}]},"model":"models/gemini-embedding-001"}]}""");
        Assert.Equal(200, aiStatus);
        Assert.Equal(200, lcStatus);
        var ai = Many(aiBody);
        var lc = Many(lcBody);
        Assert.Equal(3, ai.Length);
        Assert.Equal(2, lc.Length);
        // "a" and "b" in both calls: the same text gives the same vector, cut to 4 in the first.
        Assert.Equal(lc[0][..4], ai[0]);
        Assert.Equal(lc[1][..4], ai[1]);
        Assert.NotEqual(lc[0], lc[1]);
    }

    [Fact]
    public async Task Snake_case_fields_and_embed_content_config_are_understood()
    {
        var (snakeStatus, snake) = await _client.PostAsync("/v1beta/models/text-embedding-004:embedContent",
            """{"content":{"parts":[{"text":"hello"}]},"task_type":"RETRIEVAL_QUERY","output_dimensionality":"8"}""");
        var (configStatus, config) = await _client.PostAsync("/v1beta/models/text-embedding-004:embedContent",
            """{"content":{"parts":[{"text":"hello"}]},"embedContentConfig":{"outputDimensionality":5,"taskType":"SEMANTIC_SIMILARITY"}}""");
        Assert.Equal(200, snakeStatus);
        Assert.Equal(200, configStatus);
        Assert.Equal(8, Single(snake).Length);
        Assert.Equal(5, Single(config).Length);
    }

    [Theory]
    [InlineData("/v1/models/embedding-001:embedContent")]
    [InlineData("/v1alpha/models/models/text-embedding-minilm:embedContent")]
    public async Task Every_api_version_and_the_models_prefix_reach_the_same_model(string path)
    {
        using var response = await _client.PostAsync(path, Json.Body("""{"content":{"parts":[{"text":"hello"}]}}"""));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.StartsWith("application/json", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(384, Single(await Json.ReadAsync(response)).Length);
    }

    [Fact]
    public async Task Several_parts_of_one_content_are_one_text_and_one_embedding()
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-embedding-001:batchEmbedContents",
            """{"requests":[{"content":{"role":"user","parts":[{"text":"a"},{"text":"b"}]},"model":"models/gemini-embedding-001"}]}""");
        Assert.Equal(200, status);
        Assert.Single(Many(body));
    }
}
