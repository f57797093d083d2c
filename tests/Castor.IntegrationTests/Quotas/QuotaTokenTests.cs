using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Quotas;

/// <summary>TPM counts a prompt's real tokens (the model's tokenizer, as countTokens and usageMetadata report them) before it is queued, not a guess from its length.</summary>
public sealed class QuotaTokenTests(QuotaServerFixture server) : IClassFixture<QuotaServerFixture>
{
    public const long TokensPerMinute = 60;

    private static string Generate(string text) =>
        new JsonObject
        {
            ["contents"] = new JsonArray(new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = text }) }),
            ["generationConfig"] = new JsonObject { ["maxOutputTokens"] = 2 },
        }.ToJsonString();

    private static async Task<int> CountAsync(HttpClient client, string text)
    {
        var (status, body) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", Generate(text).Replace(",\"generationConfig\":{\"maxOutputTokens\":2}", ""));
        Assert.Equal(200, status);
        return body!["totalTokens"]!.GetValue<int>();
    }

    [Fact]
    public async Task A_prompt_is_counted_with_its_real_token_count_before_it_runs()
    {
        using var client = server.CreateClient(await server.NewProjectKeyAsync("tpm-exact", "tpm"));
        const string Short = "Once";
        // Rare letters: the 512-token vocabulary spends about a token a character on them, far more than length / 4.
        var dense = string.Join(' ', Enumerable.Repeat("zq xj vk qz", 8));
        var (shortTokens, denseTokens) = (await CountAsync(client, Short), await CountAsync(client, dense));
        // What the test rests on: the short prompt fits, the dense one's real count does not fit beside it, and its
        // length-based guess (four characters a token) would have.
        Assert.True(shortTokens * 2 <= TokensPerMinute, $"short prompt: {shortTokens} tokens");
        Assert.True(shortTokens + denseTokens > TokensPerMinute, $"dense prompt: {denseTokens} tokens");
        Assert.True(shortTokens + (dense.Length + 3) / 4 <= TokensPerMinute, $"dense prompt: {dense.Length} characters");

        var (first, answer) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Generate(Short));
        Assert.Equal(200, first);
        Assert.Equal(shortTokens, answer!["usageMetadata"]!["promptTokenCount"]!.GetValue<int>());

        var (refused, error) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Generate(dense));
        Assert.Equal(429, refused);
        var violation = error!["error"]!["details"]!.AsArray()
            .Single(d => d!["@type"]!.GetValue<string>() == "type.googleapis.com/google.rpc.QuotaFailure")!["violations"]![0]!;
        Assert.Equal("generativelanguage.googleapis.com/generate_content_tpm_tier_input_token_count", violation["quotaMetric"]!.GetValue<string>());
        Assert.Equal(TokensPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture), violation["quotaValue"]!.GetValue<string>());

        // The refused prompt took nothing: the short one still fits beside the first (the stream is counted the same way).
        using var streamed = await client.PostAsync("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", Json.Body(Generate(Short)));
        Assert.Equal(200, (int)streamed.StatusCode);
    }

    /// <summary>Rare letters: the 512-token vocabulary spends about a token a character on them, far more than length / 4.</summary>
    private static readonly string Dense = string.Join(' ', Enumerable.Repeat("zq xj vk qz", 8));

    [Fact]
    public async Task An_embedding_is_counted_with_the_tokens_the_model_reads_before_it_is_computed()
    {
        // The embedding model's tokenizer reads rare letters at about a token per 2.5 characters: 239 characters are well
        // over the 60-token budget, and a length-based guess (four characters a token) would have let them in.
        var dense = string.Join(' ', Enumerable.Repeat("zq xj vk qz", 20));
        // What the embedding model reads for the dense text, from the service itself (embedContent answers no token count).
        var embeddings = server.App.Services.GetRequiredService<Castor.Application.Embeddings.IEmbeddingService>();
        var text = new Castor.Application.Generation.Content("user", [new Castor.Application.Generation.TextPart(dense)]);
        var probe = await embeddings.EmbedContentAsync(new Castor.Application.Keys.Caller("embed-probe", "embed-probe", "probe"), "gemini-embedding-001",
            new Castor.Application.Embeddings.EmbeddingRequest { Content = text }, null, CancellationToken.None);
        Assert.True(probe.PromptTokenCount > TokensPerMinute, $"dense text: {probe.PromptTokenCount} tokens");
        Assert.True((dense.Length + 3) / 4 <= TokensPerMinute, $"dense text: {dense.Length} characters");

        using var client = server.CreateClient(await server.NewProjectKeyAsync("tpm-embed", "tpm"));
        var body = new JsonObject { ["content"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = dense }) } }.ToJsonString();
        var (refused, error) = await client.PostAsync("/v1beta/models/gemini-embedding-001:embedContent", body);
        Assert.Equal(429, refused);
        var violation = error!["error"]!["details"]!.AsArray()
            .Single(d => d!["@type"]!.GetValue<string>() == "type.googleapis.com/google.rpc.QuotaFailure")!["violations"]![0]!;
        Assert.Equal("generativelanguage.googleapis.com/embed_content_tpm_tier_input_token_count", violation["quotaMetric"]!.GetValue<string>());

        // The refused call took nothing, and an invalid one counts as a request but no tokens: a short text still fits the
        // minute's token budget.
        var (invalid, _) = await client.PostAsync("/v1beta/models/gemini-embedding-001:embedContent", """{"content":{"parts":[{"text":""}]}}""");
        Assert.Equal(400, invalid);
        var (ok, _) = await client.PostAsync("/v1beta/models/gemini-embedding-001:embedContent", """{"content":{"parts":[{"text":"a cat"}]}}""");
        Assert.Equal(200, ok);
    }

    [Fact]
    public async Task A_batch_job_is_counted_against_batch_enqueued_tokens_with_its_requests_real_token_counts()
    {
        using var client = await server.NewProjectClientAsync("batch-tokens");
        var denseTokens = await CountAsync(client, Dense);
        const int Requests = 4;
        // The default tier allows 200 enqueued tokens: four dense requests pass it by their real count, not by their length.
        Assert.True(Requests * denseTokens > 200, $"dense prompt: {denseTokens} tokens");
        Assert.True(Requests * ((Generate(Dense).Length + 3) / 4) <= 200, $"dense request: {Generate(Dense).Length} characters");

        var job = "{\"batch\":{\"inputConfig\":{\"requests\":{\"requests\":[" +
                  string.Join(',', Enumerable.Repeat("{\"request\":" + Generate(Dense) + "}", Requests)) + "]}}}}";
        var (refused, body) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:batchGenerateContent", job);
        Assert.Equal(429, refused);
        Assert.Contains($"hold {Requests * denseTokens} input tokens", body!["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_openai_batch_is_counted_against_batch_enqueued_tokens_per_model_named_in_its_requests()
    {
        var key = (await server.App.Services.GetRequiredService<Castor.Application.Keys.ApiKeyService>().CreateKeyAsync("openai-batch-tokens")).Key;
        using var client = server.CreateClient(key);
        var denseTokens = await CountAsync(client, Dense);
        var lines = string.Join("\n", Enumerable.Range(0, 5).Select(i => System.Text.Json.JsonSerializer.Serialize(new
        {
            custom_id = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
            method = "POST",
            url = "/v1/chat/completions",
            body = new { model = "gemini-2.5-flash", messages = new[] { new { role = "user", content = Dense } }, max_tokens = 2 },
        }))) + "\n";
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(lines));
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/jsonl");
        form.Add(file, "file", "batch.jsonl");
        form.Add(new StringContent("batch"), "purpose");
        using var uploaded = await client.PostAsync("/v1beta/openai/files", form);
        var fileId = (await Json.ReadAsync(uploaded))!["id"]!.GetValue<string>();
        Assert.True(5 * denseTokens > 200, $"dense prompt: {denseTokens} tokens");

        using var created = await client.PostAsync("/v1beta/openai/batches", Json.Body(System.Text.Json.JsonSerializer.Serialize(
            new { input_file_id = fileId, endpoint = "/v1/chat/completions", completion_window = "24h" })));
        Assert.Equal(429, (int)created.StatusCode);
        var error = (await Json.ReadAsync(created))!["error"]!;
        Assert.Equal("rate_limit_exceeded", error["code"]!.GetValue<string>());
        Assert.Contains("batch_generate_content_free_tier_enqueued_tokens", error["message"]!.GetValue<string>());
    }
}
