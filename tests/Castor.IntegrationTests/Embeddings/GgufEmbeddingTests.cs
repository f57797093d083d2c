using static Castor.IntegrationTests.Embeddings.EmbeddingClient;

namespace Castor.IntegrationTests.Embeddings;

/// <summary>
/// The GGUF path through llama.cpp, on stories260K configured as an embedding model (mean pooling, task prompts).
/// The model has no embedding training: these tests check the mechanics (shape, batching, prompts, truncation,
/// determinism), never what the vectors mean.
/// </summary>
[Collection(EmbeddingCollection.Name)]
public sealed class GgufEmbeddingTests(EmbeddingServerFixture server)
{
    private const string Model = EmbeddingServerFixture.GgufModel;
    private readonly HttpClient _client = server.CreateClient();

    private async Task<(float[] Vector, int Tokens)> EmbedAsync(string body, string model = Model)
    {
        var (status, reply) = await _client.PostAsync($"/v1beta/models/{model}:embedContent", body);
        Assert.True(status == 200, reply?.ToJsonString());
        return (Single(reply), reply!["usageMetadata"]!["promptTokenCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_gguf_model_embeds_into_its_hidden_size_normalized()
    {
        var (vector, tokens) = await EmbedAsync("""{"content":{"parts":[{"text":"Once upon a time"}]}}""");
        Assert.Equal(64, vector.Length);
        Assert.Equal(1.0, Norm(vector), 4);
        Assert.True(tokens > 1);
    }

    [Fact]
    public async Task A_batch_shares_one_decode_and_matches_texts_embedded_alone()
    {
        var entry = server.Model(Model);
        string[] texts = ["Once upon a time", "there was a little girl", "who liked to play", "in the park with her dog", "The end."];
        var before = entry.Model.Runs;
        var (status, body) = await _client.PostAsync($"/v1beta/models/{Model}:batchEmbedContents", Batch(Model, texts));
        Assert.True(status == 200, body?.ToJsonString());
        Assert.Equal(before + 1, entry.Model.Runs);
        var batch = Many(body);
        Assert.Equal(5, batch.Length);

        for (var i = 0; i < texts.Length; i++)
        {
            var (alone, _) = await EmbedAsync(Request(Model, texts[i]));
            // llama.cpp's kernels depend on the batch's shape, so only the last bits may differ.
            Assert.True(Cosine(alone, batch[i]) > 0.9999, $"text {i}: cosine {Cosine(alone, batch[i])}");
        }
    }

    [Fact]
    public async Task The_same_request_gives_the_same_vector()
    {
        var body = Batch(Model, "Lily saw a big red ball.", "Tom was sad.");
        var (_, first) = await _client.PostAsync($"/v1beta/models/{Model}:batchEmbedContents", body);
        var (_, second) = await _client.PostAsync($"/v1beta/models/{Model}:batchEmbedContents", body);
        Assert.Equal(first!.ToJsonString(), second!.ToJsonString());
    }

    [Fact]
    public async Task Configured_task_prompts_change_what_the_model_reads()
    {
        var (plain, plainTokens) = await EmbedAsync("""{"content":{"parts":[{"text":"a happy dog"}]}}""");
        var (query, queryTokens) = await EmbedAsync("""{"content":{"parts":[{"text":"a happy dog"}]},"taskType":"RETRIEVAL_QUERY"}""");
        var (titled, titledTokens) = await EmbedAsync("""{"content":{"parts":[{"text":"a happy dog"}]},"taskType":"RETRIEVAL_DOCUMENT","title":"Dogs"}""");
        var (untitled, _) = await EmbedAsync("""{"content":{"parts":[{"text":"a happy dog"}]},"taskType":"RETRIEVAL_DOCUMENT"}""");
        var (clustering, _) = await EmbedAsync("""{"content":{"parts":[{"text":"a happy dog"}]},"taskType":"CLUSTERING"}""");

        Assert.True(queryTokens > plainTokens);
        Assert.True(titledTokens > plainTokens);
        Assert.NotEqual(plain, query);
        Assert.NotEqual(titled, untitled);
        Assert.NotEqual(plain, titled);
        // A task type the model has no prompt for embeds the bare text.
        Assert.Equal(plain, clustering);
    }

    [Fact]
    public async Task An_alias_reaches_the_gguf_model()
    {
        var (direct, _) = await EmbedAsync("""{"content":{"parts":[{"text":"alias"}]}}""");
        var (aliased, _) = await EmbedAsync("""{"content":{"parts":[{"text":"alias"}]}}""", EmbeddingServerFixture.GgufAlias);
        Assert.Equal(direct, aliased);
    }

    [Fact]
    public async Task A_text_longer_than_the_configured_window_is_cut_to_it()
    {
        var text = string.Join(" ", Enumerable.Repeat("the little dog ran", 40));
        var (_, tokens) = await EmbedAsync($$$"""{"content":{"parts":[{"text":"{{{text}}}"}]}}""");
        Assert.Equal(64, tokens);
    }
}
