using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.Embeddings;

/// <summary>models.list and models.get know the embedding models, and say which methods each model supports.</summary>
[Collection(EmbeddingCollection.Name)]
public sealed class EmbeddingModelsTests(EmbeddingServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();

    private static List<string> Methods(JsonNode? model) =>
        model!["supportedGenerationMethods"]!.AsArray().Select(m => m!.GetValue<string>()).ToList();

    [Fact]
    public async Task The_list_names_embedding_models_and_aliases_with_embed_content_only()
    {
        var (status, body) = await _client.GetJsonAsync("/v1beta/models?pageSize=1000");
        Assert.Equal(200, status);
        var models = body!["models"]!.AsArray().ToDictionary(m => m!["name"]!.GetValue<string>(), m => m);
        foreach (var name in new[] { "text-embedding-minilm", "stories-embed", "story-embedder", "gemini-embedding-001", "text-embedding-004", "embedding-001" })
        {
            Assert.True(models.ContainsKey("models/" + name), $"models/{name} is not listed");
            Assert.Equal(["embedContent"], Methods(models["models/" + name]));
        }
        foreach (var name in new[] { "stories260k", "gemini-2.5-flash" })
        {
            Assert.Contains("generateContent", Methods(models["models/" + name]));
            Assert.DoesNotContain("embedContent", Methods(models["models/" + name]));
        }
    }

    [Fact]
    public async Task A_gemini_embedding_name_describes_the_built_in_model()
    {
        var (status, body) = await _client.GetJsonAsync("/v1beta/models/gemini-embedding-001");
        Assert.Equal(200, status);
        Assert.Equal("models/gemini-embedding-001", body!["name"]!.GetValue<string>());
        Assert.Equal("text-embedding-minilm", body["baseModelId"]!.GetValue<string>());
        Assert.Equal(256, body["inputTokenLimit"]!.GetValue<int>());
        Assert.Equal(1, body["outputTokenLimit"]!.GetValue<int>());
        Assert.Null(body["temperature"]);
        Assert.Null(body["topK"]);
        Assert.False(string.IsNullOrEmpty(body["description"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_gguf_embedding_model_reports_its_configured_window()
    {
        var (status, body) = await _client.GetJsonAsync("/v1beta/models/story-embedder");
        Assert.Equal(200, status);
        Assert.Equal("stories-embed", body!["baseModelId"]!.GetValue<string>());
        Assert.Equal(64, body["inputTokenLimit"]!.GetValue<int>());
        Assert.Contains("mean pooling", body["description"]!.GetValue<string>());
    }

    [Fact]
    public void The_banner_lists_the_embedding_models()
    {
        var banner = server.Console.ToString();
        Assert.Contains("Embedding     text-embedding-minilm", banner);
        Assert.Contains("Embedding     stories-embed", banner);
        Assert.Contains("gemini-embedding-001, text-embedding-004, embedding-001 → text-embedding-minilm", banner);
    }
}
