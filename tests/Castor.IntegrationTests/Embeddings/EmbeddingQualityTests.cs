using static Castor.IntegrationTests.Embeddings.EmbeddingClient;

namespace Castor.IntegrationTests.Embeddings;

/// <summary>The built-in model's vectors mean something, are normalized, cut as the docs say, and never change.</summary>
[Collection(EmbeddingCollection.Name)]
public sealed class EmbeddingQualityTests(EmbeddingServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();

    private async Task<float[][]> EmbedAsync(string model, params string[] texts)
    {
        var (status, body) = await _client.PostAsync($"/v1beta/models/{model}:batchEmbedContents", Batch(model, texts));
        Assert.True(status == 200, body?.ToJsonString());
        return Many(body);
    }

    [Fact]
    public async Task A_query_about_felines_ranks_a_sentence_about_cats_above_one_about_cars()
    {
        var v = await EmbedAsync("gemini-embedding-001",
            "Tell me about felines.", "The cat is sleeping on the sofa.", "The car is parked in the garage.");
        var cats = Cosine(v[0], v[1]);
        var cars = Cosine(v[0], v[2]);
        Assert.True(cats > cars + 0.15, $"cat sentence {cats:0.000}, car sentence {cars:0.000}");
    }

    [Fact]
    public async Task Similar_meanings_are_closer_than_different_ones()
    {
        var v = await EmbedAsync("text-embedding-minilm",
            "What is the meaning of life?", "What is the purpose of existence?", "How do I bake a cake?");
        Assert.True(Cosine(v[0], v[1]) > Cosine(v[0], v[2]) + 0.2);
        Assert.True(Cosine(v[0], v[1]) > Cosine(v[1], v[2]) + 0.2);
    }

    [Fact]
    public async Task Embeddings_are_deterministic_alone_or_in_a_batch()
    {
        var first = await EmbedAsync("gemini-embedding-001", "The quick brown fox jumps over the lazy dog.", "A second, longer sentence that pads the batch to more tokens than the first.");
        var again = await EmbedAsync("gemini-embedding-001", "The quick brown fox jumps over the lazy dog.", "A second, longer sentence that pads the batch to more tokens than the first.");
        var (_, alone) = await _client.PostAsync("/v1beta/models/gemini-embedding-001:embedContent",
            """{"content":{"parts":[{"text":"The quick brown fox jumps over the lazy dog."}]}}""");
        Assert.Equal(first[0], again[0]);
        Assert.Equal(first[1], again[1]);
        var single = Single(alone);
        for (var i = 0; i < single.Length; i++) Assert.Equal(first[0][i], single[i], 5);
    }

    [Fact]
    public async Task The_full_vector_is_normalized_and_a_shorter_one_is_its_prefix()
    {
        var (_, full) = await _client.PostAsync("/v1beta/models/gemini-embedding-001:embedContent", """{"content":{"parts":[{"text":"normalize me"}]}}""");
        var (_, cut) = await _client.PostAsync("/v1beta/models/gemini-embedding-001:embedContent", """{"content":{"parts":[{"text":"normalize me"}]},"outputDimensionality":64}""");
        var vector = Single(full);
        var prefix = Single(cut);
        Assert.Equal(384, vector.Length);
        Assert.Equal(1.0, Norm(vector), 4);
        Assert.Equal(vector[..64], prefix);
        Assert.True(Norm(prefix) < 0.999);
    }

    [Fact]
    public async Task Task_types_and_titles_do_not_change_the_built_in_models_vectors()
    {
        var (_, plain) = await _client.PostAsync("/v1beta/models/text-embedding-minilm:embedContent", """{"content":{"parts":[{"text":"cats purr"}]}}""");
        var (_, query) = await _client.PostAsync("/v1beta/models/text-embedding-minilm:embedContent", """{"content":{"parts":[{"text":"cats purr"}]},"taskType":"RETRIEVAL_QUERY"}""");
        var (_, document) = await _client.PostAsync("/v1beta/models/text-embedding-minilm:embedContent", """{"content":{"parts":[{"text":"cats purr"}]},"taskType":"RETRIEVAL_DOCUMENT","title":"Cats"}""");
        Assert.Equal(Single(plain), Single(query));
        Assert.Equal(Single(plain), Single(document));
    }

    [Fact]
    public async Task A_batch_is_computed_together_one_onnx_run_per_core_not_one_per_text()
    {
        var model = server.Model(EmbeddingServerFixture.Builtin).Model;
        var before = model.Runs;
        var vectors = await EmbedAsync("gemini-embedding-001", Enumerable.Range(0, 12).Select(i => $"Sentence number {i} about topic {i % 3}.").ToArray());
        Assert.Equal(12, vectors.Length);
        // The fixture runs with 2 threads: the 12 texts are split into one run per thread, side by side.
        Assert.Equal(before + 2, model.Runs);
    }

    [Fact]
    public async Task A_text_longer_than_the_window_is_truncated_unless_auto_truncate_is_false()
    {
        var text = string.Join(" ", Enumerable.Repeat("lorem ipsum dolor", 300));
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-embedding-001:embedContent", $$$"""{"content":{"parts":[{"text":"{{{text}}}"}]}}""");
        Assert.Equal(200, status);
        Assert.Equal(256, body!["usageMetadata"]!["promptTokenCount"]!.GetValue<int>());

        var (refused, error) = await _client.PostAsync("/v1beta/models/gemini-embedding-001:embedContent",
            $$$"""{"content":{"parts":[{"text":"{{{text}}}"}]},"embedContentConfig":{"autoTruncate":false}}""");
        Assert.Equal(400, refused);
        Json.AssertRpcError(error, 400, "INVALID_ARGUMENT");
    }
}
