using System.Text.Json.Nodes;

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
}
