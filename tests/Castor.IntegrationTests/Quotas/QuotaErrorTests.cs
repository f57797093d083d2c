using System.Text.Json.Nodes;
using Castor.Application.Keys;
using Castor.Application.Quotas;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Quotas;

/// <summary>Over a limit, each wire answers its own 429: the Gemini API's RESOURCE_EXHAUSTED with its details, OpenAI's rate_limit_exceeded; both with Retry-After.</summary>
public sealed class QuotaErrorTests(QuotaServerFixture server) : IClassFixture<QuotaServerFixture>
{
    private const string Generate = """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":2}}""";

    [Fact]
    public async Task The_second_request_of_the_day_is_the_apis_429_field_by_field()
    {
        using var client = await server.NewProjectClientAsync("gemini-429");
        var (ok, _) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Generate);
        Assert.Equal(200, ok);

        using var response = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Json.Body(Generate));
        Assert.Equal(429, (int)response.StatusCode);
        Assert.StartsWith("application/json", response.Content.Headers.ContentType!.ToString());
        var retryAfter = long.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 25 * 3600);

        var error = Json.AssertRpcError(await Json.ReadAsync(response), 429, "RESOURCE_EXHAUSTED");
        var message = error["message"]!.GetValue<string>();
        Assert.StartsWith("You exceeded your current quota, please check your plan and billing details.", message);
        Assert.Contains("https://ai.google.dev/gemini-api/docs/rate-limits", message);
        Assert.Contains("limit: 1, model: stories260k", message);

        var details = error["details"]!.AsArray();
        var failure = Detail(details, "type.googleapis.com/google.rpc.QuotaFailure");
        var violation = Assert.Single(failure["violations"]!.AsArray())!;
        Assert.Equal("generativelanguage.googleapis.com/generate_content_free_tier_requests", violation["quotaMetric"]!.GetValue<string>());
        Assert.Equal("GenerateRequestsPerDayPerProjectPerModel-FreeTier", violation["quotaId"]!.GetValue<string>());
        Assert.Equal("global", violation["quotaDimensions"]!["location"]!.GetValue<string>());
        Assert.Equal("stories260k", violation["quotaDimensions"]!["model"]!.GetValue<string>());
        Assert.Equal("1", violation["quotaValue"]!.GetValue<string>());
        var link = Assert.Single(Detail(details, "type.googleapis.com/google.rpc.Help")["links"]!.AsArray())!;
        Assert.Equal("https://ai.google.dev/gemini-api/docs/rate-limits", link["url"]!.GetValue<string>());
        Assert.Equal($"{retryAfter}s", Detail(details, "type.googleapis.com/google.rpc.RetryInfo")["retryDelay"]!.GetValue<string>());

        // An alias and the local model it resolves to are one model: the local name is refused too, and so is the stream.
        var (local, _) = await client.PostAsync("/v1beta/models/stories260k:generateContent", Generate);
        Assert.Equal(429, local);
        var (stream, _) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", Generate);
        Assert.Equal(429, stream);

        // countTokens is not rate limited (the API's tables do not list it).
        var (count, _) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", """{"contents":[{"parts":[{"text":"Once"}]}]}""");
        Assert.Equal(200, count);
    }

    [Fact]
    public async Task The_openai_routes_answer_openais_rate_limit_error_with_retry_after()
    {
        using var client = await server.NewProjectClientAsync("openai-429");
        const string chat = """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Once"}],"max_tokens":2}""";
        var (ok, _) = await client.PostAsync("/v1beta/openai/chat/completions", chat);
        Assert.Equal(200, ok);

        using var response = await client.PostAsync("/v1beta/openai/chat/completions", Json.Body(chat));
        Assert.Equal(429, (int)response.StatusCode);
        Assert.True(long.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        var error = (await Json.ReadAsync(response))!["error"]!;
        Assert.Equal("rate_limit_error", error["type"]!.GetValue<string>());
        Assert.Equal("rate_limit_exceeded", error["code"]!.GetValue<string>());
        Assert.StartsWith("You exceeded your current quota", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Embeddings_count_each_content_as_a_request()
    {
        using var client = await server.NewProjectClientAsync("embed-429");
        const string two = """{"requests":[{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"a"}]}},{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"b"}]}}]}""";
        var (batch, body) = await client.PostAsync("/v1beta/models/gemini-embedding-001:batchEmbedContents", two);
        Assert.Equal(429, batch);
        var violation = Detail(body!["error"]!["details"]!.AsArray(), "type.googleapis.com/google.rpc.QuotaFailure")["violations"]![0]!;
        Assert.Equal("generativelanguage.googleapis.com/embed_content_free_tier_requests", violation["quotaMetric"]!.GetValue<string>());

        // The refused batch did not count: one content still fits.
        var (one, _) = await client.PostAsync("/v1beta/models/gemini-embedding-001:embedContent", """{"content":{"parts":[{"text":"a"}]}}""");
        Assert.Equal(200, one);
        var (again, _) = await client.PostAsync("/v1beta/models/gemini-embedding-001:embedContent", """{"content":{"parts":[{"text":"a"}]}}""");
        Assert.Equal(429, again);
    }

    [Fact]
    public async Task A_project_moved_to_another_tier_gets_its_limits_on_the_next_request()
    {
        using var client = await server.NewProjectClientAsync("moved");
        Assert.Equal(200, (await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Generate)).Status);
        Assert.Equal(429, (await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Generate)).Status);

        Assert.True(await server.App.Services.GetRequiredService<ProjectService>().SetTierAsync("moved", "unlimited"));
        Assert.Equal(200, (await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Generate)).Status);
        await Assert.ThrowsAsync<ArgumentException>(() => server.App.Services.GetRequiredService<ProjectService>().SetTierAsync("moved", "gold"));
    }

    [Fact]
    public async Task An_admin_key_manages_projects_and_tiers_through_the_api_and_an_ordinary_key_cannot()
    {
        var keys = server.App.Services.GetRequiredService<ApiKeyService>();
        using var admin = server.CreateClient((await keys.CreateKeyAsync("tier-admins", admin: true)).Key);
        using var ordinary = await server.NewProjectClientAsync("tier-ordinary");

        var (created, project) = await admin.PostAsync("/v1beta/castor/projects", """{"name":"tiered"}""");
        Assert.Equal(200, created);
        Assert.Equal(("tiered", "free"), (project!["name"]!.GetValue<string>(), project["effectiveTier"]!.GetValue<string>()));
        Assert.Null(project["tier"]);
        Json.AssertRpcError((await admin.PostAsync("/v1beta/castor/projects", """{"name":"tiered"}""")).Body, 409, "ALREADY_EXISTS");
        Json.AssertRpcError((await admin.PostAsync("/v1beta/castor/projects", """{"name":"other","tier":"gold"}""")).Body, 400, "INVALID_ARGUMENT");

        // The project's key is limited by the free tier (one request a day) until an admin moves it.
        using var client = server.CreateClient((await keys.CreateKeyAsync("tiered")).Key);
        Assert.Equal(200, (await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Generate)).Status);
        Assert.Equal(429, (await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Generate)).Status);
        using (var patch = await admin.PatchAsync("/v1beta/castor/projects/tiered", Json.Body("""{"tier":"unlimited"}""")))
        {
            Assert.Equal(200, (int)patch.StatusCode);
            Assert.Equal("unlimited", (await Json.ReadAsync(patch))!["tier"]!.GetValue<string>());
        }
        Assert.Equal(200, (await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Generate)).Status);
        var (_, list) = await admin.GetJsonAsync("/v1beta/castor/projects");
        var listed = list!["projects"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "tiered")!;
        Assert.Equal(("unlimited", 1), (listed["effectiveTier"]!.GetValue<string>(), listed["activeKeys"]!.GetValue<int>()));
        using (var missing = await admin.PatchAsync("/v1beta/castor/projects/nobody", Json.Body("""{"tier":"default"}""")))
            Assert.Equal(404, (int)missing.StatusCode);

        Json.AssertRpcError((await ordinary.GetJsonAsync("/v1beta/castor/projects")).Body, 403, "PERMISSION_DENIED");
        Json.AssertRpcError((await ordinary.PostAsync("/v1beta/castor/projects", """{"name":"sneaky","tier":"unlimited"}""")).Body, 403, "PERMISSION_DENIED");
        using var sneaky = await ordinary.PatchAsync("/v1beta/castor/projects/tier-ordinary", Json.Body("""{"tier":"unlimited"}"""));
        Assert.Equal(403, (int)sneaky.StatusCode);
    }

    [Fact]
    public async Task A_batch_job_over_the_batch_enqueued_tokens_is_refused_and_not_kept()
    {
        using var client = await server.NewProjectClientAsync("batch-429");
        static string Job(int requests) => "{\"batch\":{\"inputConfig\":{\"requests\":{\"requests\":[" +
            string.Join(',', Enumerable.Repeat("{\"request\":" + Generate + "}", requests)) + "]}}}}";

        // 100 requests of a few tokens each (counted with the tokenizer as they are enqueued): over the 200 allowed.
        var (refused, body) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:batchGenerateContent", Job(100));
        Assert.Equal(429, refused);
        var violation = Detail(body!["error"]!["details"]!.AsArray(), "type.googleapis.com/google.rpc.QuotaFailure")["violations"]![0]!;
        Assert.Equal("generativelanguage.googleapis.com/batch_generate_content_free_tier_enqueued_tokens", violation["quotaMetric"]!.GetValue<string>());
        Assert.Equal("BatchEnqueuedTokensPerProjectPerModel-FreeTier", violation["quotaId"]!.GetValue<string>());
        Assert.Equal("200", violation["quotaValue"]!.GetValue<string>());
        var (listed, list) = await client.GetJsonAsync("/v1beta/batches");
        Assert.Equal(200, listed);
        Assert.Empty(list?["operations"]?.AsArray() ?? []);

        // One request fits; batch requests are not online calls, so the project's one request a day is still there.
        Assert.Equal(200, (await client.PostAsync("/v1beta/models/gemini-2.5-flash:batchGenerateContent", Job(1))).Status);
        Assert.Equal(200, (await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Generate)).Status);
    }

    private static JsonNode Detail(JsonArray details, string type) =>
        details.Single(d => d!["@type"]!.GetValue<string>() == type)!;
}
