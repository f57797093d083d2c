using System.Net.Http.Headers;
using Castor.Application.Limits;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Castor.IntegrationTests.Limits;

/// <summary>
/// Per-key and per-project concurrency limits over real HTTP: a project that floods gets 429 RESOURCE_EXHAUSTED for its
/// excess, in each wire's shape, while another project's requests are served; places come back however requests end.
/// Requests hold their place by holding back their body (<see cref="HeldRequest"/>), so the counts are exact.
/// </summary>
public sealed class FairnessTests(LimitsServerFixture server) : IClassFixture<LimitsServerFixture>
{
    private const string Generate = "/v1beta/models/gemini-2.5-flash:generateContent";
    private const string Small = """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":4}}""";

    private ConcurrencyLimiter Limiter => server.App.Services.GetRequiredService<ConcurrencyLimiter>();

    private async Task WaitForInFlightAsync(string keyId, int expected)
    {
        for (var i = 0; i < 600 && Limiter.InFlightForKey(keyId) != expected; i++) await Task.Delay(50);
        Assert.Equal(expected, Limiter.InFlightForKey(keyId));
    }

    [Fact]
    public async Task A_flooding_project_gets_429_for_its_excess_while_another_project_is_served()
    {
        var flood = server.FloodKey;
        var held = new List<HeldRequest>();
        try
        {
            for (var i = 0; i < LimitsServerFixture.PerKey; i++)
                held.Add(await HeldRequest.StartAsync(server.BaseAddress, Generate, flood.Key, Small));
            await WaitForInFlightAsync(flood.Id, LimitsServerFixture.PerKey);

            // The flood's excess: refused at once, in Google's shape, with the details and the header clients honour.
            using var floodClient = server.CreateClient(flood.Key);
            var excess = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => floodClient.PostAsync(Generate, Json.Body(Small))));
            foreach (var response in excess)
            {
                Assert.Equal(429, (int)response.StatusCode);
                Assert.Equal("1", response.Headers.RetryAfter?.ToString());
                var error = Json.AssertRpcError(await Json.ReadAsync(response), 429, "RESOURCE_EXHAUSTED");
                Assert.Contains("Limits:MaxConcurrentRequestsPerKey", error["message"]!.GetValue<string>());
                var types = error["details"]!.AsArray().Select(d => d!["@type"]!.GetValue<string>()).ToList();
                Assert.Contains("type.googleapis.com/google.rpc.QuotaFailure", types);
                Assert.Contains("type.googleapis.com/google.rpc.RetryInfo", types);
            }

            // countTokens and embeddings count too.
            var (countStatus, _) = await floodClient.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", """{"contents":[{"parts":[{"text":"hi"}]}]}""");
            Assert.Equal(429, countStatus);

            // The OpenAI route answers OpenAI's 429 with retry-after.
            using var openai = server.CreateClient(apiKey: null);
            openai.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", flood.Key);
            using var chat = await openai.PostAsync("/v1beta/openai/chat/completions",
                Json.Body("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}],"max_tokens":2}"""));
            Assert.Equal(429, (int)chat.StatusCode);
            Assert.Equal("1", chat.Headers.RetryAfter?.ToString());
            var chatError = (await Json.ReadAsync(chat))!["error"]!;
            Assert.Equal("rate_limit_error", chatError["type"]!.GetValue<string>());
            Assert.Equal("rate_limit_exceeded", chatError["code"]!.GetValue<string>());

            // Meanwhile another project is served: not 429, not 503.
            using var quiet = server.CreateClient(server.OtherProjectKey.Key);
            var served = await Task.WhenAll(Enumerable.Range(0, LimitsServerFixture.PerKey).Select(_ => quiet.PostAsync(Generate, Small)));
            Assert.All(served, r => Assert.Equal(200, r.Status));

            // Listing models is not a model request: never limited.
            Assert.Equal(200, (await floodClient.GetJsonAsync("/v1beta/models")).Status);

            // The held requests finish normally and give their places back.
            foreach (var request in held)
                Assert.StartsWith("HTTP/1.1 200", await request.FinishAsync());
            await WaitForInFlightAsync(flood.Id, 0);
            Assert.Equal(200, (await floodClient.PostAsync(Generate, Small)).Status);
        }
        finally
        {
            foreach (var request in held) await request.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_project_limit_covers_all_its_keys()
    {
        var held = new List<HeldRequest>();
        try
        {
            for (var i = 0; i < LimitsServerFixture.PerKey; i++)
                held.Add(await HeldRequest.StartAsync(server.BaseAddress, Generate, server.FloodKey.Key, Small));
            held.Add(await HeldRequest.StartAsync(server.BaseAddress, Generate, server.FloodKey2.Key, Small));
            await WaitForInFlightAsync(server.FloodKey.Id, LimitsServerFixture.PerKey);
            await WaitForInFlightAsync(server.FloodKey2.Id, 1);

            using var second = server.CreateClient(server.FloodKey2.Key);
            var (status, body) = await second.PostAsync(Generate, Small);
            Assert.Equal(429, status);
            Assert.Contains("Limits:MaxConcurrentRequestsPerProject", Json.AssertRpcError(body, 429, "RESOURCE_EXHAUSTED")["message"]!.GetValue<string>());
        }
        finally
        {
            foreach (var request in held) await request.DisposeAsync();
        }
        await WaitForInFlightAsync(server.FloodKey.Id, 0);
        await WaitForInFlightAsync(server.FloodKey2.Id, 0);
    }

    [Fact]
    public async Task A_client_that_disconnects_gives_its_place_back()
    {
        var key = server.FloodKey2;
        var held = await HeldRequest.StartAsync(server.BaseAddress, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", key.Key, Small);
        await WaitForInFlightAsync(key.Id, 1);
        await held.DisposeAsync();
        await WaitForInFlightAsync(key.Id, 0);
    }

    [Fact]
    public async Task A_failed_request_is_logged_with_method_path_status_and_message_but_never_the_key_or_the_prompt()
    {
        const string prompt = "my secret prompt about the moon";
        using var client = server.CreateClient(apiKey: null);
        var path = "/v1beta/models/gemini-2.5-flash:generateContent";
        var (status, _) = await client.PostAsync($"{path}?key={server.OtherProjectKey.Key}",
            $$$"""{"contents":[{"parts":[{"text":"{{{prompt}}}"}]}],"generationConfig":{"temperature":"hot"}}""");
        Assert.Equal(400, status);
        var (wrongKey, _) = await client.PostAsync($"{path}?key=not-a-key-but-secret-anyway", "{}");
        Assert.Equal(400, wrongKey);
        var (missing, _) = await client.PostAsync(path, "{}");
        Assert.Equal(403, missing);

        var lines = server.Log.Lines.Select(l => l.Message).ToList();
        var line = Assert.Single(lines, l => l.Contains("answered 400") && l.Contains("generationConfig.temperature"));
        Assert.Contains("POST " + path, line);
        Assert.Contains("INVALID_ARGUMENT", line);
        Assert.Contains(lines, l => l.Contains("answered 400") && l.Contains("API key not valid"));
        Assert.Contains(lines, l => l.Contains("answered 403") && l.Contains("PERMISSION_DENIED"));
        Assert.All(server.Log.Lines.Where(l => l.Message.Contains("answered 4")), l => Assert.Equal(LogLevel.Information, l.Level));
        foreach (var l in lines)
        {
            Assert.DoesNotContain(server.OtherProjectKey.Key, l);
            Assert.DoesNotContain("not-a-key-but-secret-anyway", l);
            Assert.DoesNotContain("secret prompt", l);
            Assert.DoesNotContain("?key=", l);
        }
    }
}
