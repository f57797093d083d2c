using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Castor.Application.Keys;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Live;

/// <summary>Ephemeral tokens: <c>auth_tokens.create</c>, then Live sessions on BidiGenerateContentConstrained with <c>?access_token=</c>.</summary>
[Collection(ServerCollection.Name)]
public sealed class LiveAuthTokenTests(CastorServerFixture server)
{
    private static string ConstrainedTarget(Uri baseAddress, string token) =>
        $"ws://{baseAddress.Authority}//ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained?access_token={token}";

    private async Task<JsonNode> CreateAsync(string body, string version = "v1alpha")
    {
        using var http = server.CreateClient();
        var (status, json) = await http.PostAsync($"/{version}/auth_tokens", body);
        Assert.True(status == 200, json?.ToJsonString());
        return json!;
    }

    /// <summary>Opens a session with the token; returns the first message (setupComplete) or null with the close.</summary>
    private async Task<(LiveClient Live, JsonNode? First)> OpenAsync(string token, string setup = LiveClient.DefaultSetup)
    {
        var live = await LiveClient.ConnectAsync(ConstrainedTarget(server.BaseAddress, token));
        await live.SendAsync("{\"setup\":" + setup + "}");
        return (live, await live.ReceiveAsync());
    }

    private static string In(TimeSpan from) =>
        DateTimeOffset.UtcNow.Add(from).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Create_answers_an_auth_tokens_name_with_the_APIs_defaults()
    {
        var before = DateTimeOffset.UtcNow;
        var token = await CreateAsync("{}", "v1beta");
        Assert.StartsWith("auth_tokens/", token["name"]!.GetValue<string>());
        Assert.Equal(1, token["uses"]!.GetValue<int>());
        var expire = DateTimeOffset.Parse(token["expireTime"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        var newSession = DateTimeOffset.Parse(token["newSessionExpireTime"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        // 30 minutes to use the sessions, 1 minute to start one.
        Assert.InRange(expire - before, TimeSpan.FromMinutes(29), TimeSpan.FromMinutes(31));
        Assert.InRange(newSession - before, TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(70));
    }

    [Theory]
    [InlineData("""{"uses":-1}""", "uses")]
    [InlineData("""{"expireTime":"2001-01-01T00:00:00Z"}""", "expireTime")]
    [InlineData("""{"expireTime":"next tuesday"}""", "expireTime")]
    [InlineData("""{"fieldMask":"generationConfig..temperature"}""", "fieldMask")]
    public async Task A_bad_request_is_a_400_naming_the_field(string body, string field)
    {
        using var http = server.CreateClient();
        var (status, json) = await http.PostAsync("/v1alpha/auth_tokens", body);
        Assert.Equal(400, status);
        Assert.Contains(field, Json.AssertRpcError(json, 400, "INVALID_ARGUMENT")["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_token_with_one_use_opens_one_session_and_then_is_refused_with_1008()
    {
        var name = (await CreateAsync("""{"uses":1}"""))["name"]!.GetValue<string>();
        var (first, setupComplete) = await OpenAsync(name);
        await using (first)
        {
            Assert.True(setupComplete?["setupComplete"] is not null, $"close {first.CloseStatus} {first.CloseReason}");
            await first.SendAsync("""{"realtimeInput":{"text":"Hello"}}""");
            Assert.True((await first.ReceiveTurnAsync())[^1]["serverContent"]!["turnComplete"]!.GetValue<bool>());
        }
        var (second, message) = await OpenAsync(name);
        await using (second)
        {
            Assert.Null(message);
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, second.CloseStatus);
            Assert.Contains("used up", second.CloseReason);
        }
    }

    [Fact]
    public async Task An_unknown_token_is_refused_with_1008()
    {
        var (live, message) = await OpenAsync("auth_tokens/not-a-token-at-all");
        await using (live)
        {
            Assert.Null(message);
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, live.CloseStatus);
            Assert.Contains("not valid", live.CloseReason);
        }
    }

    [Fact]
    public async Task A_token_is_not_an_API_key_for_REST()
    {
        var name = (await CreateAsync("{}"))["name"]!.GetValue<string>();
        using var http = server.CreateClient(apiKey: name);
        var (status, json) = await http.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", """{"contents":[{"parts":[{"text":"hi"}]}]}""");
        Assert.Equal(400, status);
        Assert.Contains("API key not valid", json!["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Past_newSessionExpireTime_a_token_starts_no_session_even_with_uses_left()
    {
        // uses 0: no limit, so only the time refuses the second session.
        var token = await CreateAsync($$"""{"uses":0,"newSessionExpireTime":"{{In(TimeSpan.FromSeconds(2))}}"}""");
        var name = token["name"]!.GetValue<string>();
        var (first, setupComplete) = await OpenAsync(name);
        await using (first) Assert.NotNull(setupComplete?["setupComplete"]);

        var deadline = DateTimeOffset.Parse(token["newSessionExpireTime"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        await Task.Delay(deadline - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(200));
        var (second, message) = await OpenAsync(name);
        await using (second)
        {
            Assert.Null(message);
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, second.CloseStatus);
            Assert.Contains("newSessionExpireTime", second.CloseReason);
        }
    }

    [Fact]
    public async Task A_masked_field_takes_the_tokens_value_over_the_clients()
    {
        // The token locks the model to one that does not exist: the client's valid model is overridden, so setup fails on it.
        var name = (await CreateAsync("""
            {"bidiGenerateContentSetup":{"model":"models/locked-model-that-does-not-exist","generationConfig":{"temperature":0.5}},
             "fieldMask":"model,generationConfig.temperature,model"}
            """))["name"]!.GetValue<string>();
        var (live, message) = await OpenAsync(name);
        await using (live)
        {
            Assert.Null(message);
            Assert.Contains("locked-model-that-does-not-exist", live.CloseReason);
        }
    }

    [Fact]
    public async Task Without_a_mask_the_tokens_setup_replaces_the_clients()
    {
        // The client asks for a model that does not exist; the token's whole setup is used instead, so the session opens.
        var name = (await CreateAsync("""{"bidiGenerateContentSetup":{"model":"models/gemini-2.5-flash","generationConfig":{"maxOutputTokens":2}}}"""))
            ["name"]!.GetValue<string>();
        var (live, message) = await OpenAsync(name, """{"model":"models/not-a-model","generationConfig":{"maxOutputTokens":40}}""");
        await using (live)
        {
            Assert.True(message?["setupComplete"] is not null, $"close {live.CloseStatus} {live.CloseReason}");
            await live.SendAsync("""{"realtimeInput":{"text":"Once upon a time"}}""");
            var usage = (await live.ReceiveTurnAsync())[^1]["usageMetadata"]!;
            Assert.InRange(usage["responseTokenCount"]!.GetValue<int>(), 1, 2);
        }
    }

    [Fact]
    public async Task A_session_opened_with_a_token_gets_goAway_and_a_close_at_the_tokens_expireTime()
    {
        var name = (await CreateAsync($$"""{"expireTime":"{{In(TimeSpan.FromSeconds(3))}}","newSessionExpireTime":"{{In(TimeSpan.FromSeconds(2))}}"}"""))
            ["name"]!.GetValue<string>();
        var (live, setupComplete) = await OpenAsync(name);
        await using (live)
        {
            Assert.NotNull(setupComplete?["setupComplete"]);
            Assert.NotNull((await live.ReceiveAsync())?["goAway"]?["timeLeft"]);
            var (status, reason) = await live.ReceiveCloseAsync();
            Assert.Equal(WebSocketCloseStatus.NormalClosure, status);
            Assert.Contains("expireTime", reason);
        }
    }

    [Fact]
    public async Task A_token_stops_working_when_the_key_that_created_it_is_revoked()
    {
        var keys = server.App.Services.GetRequiredService<ApiKeyService>();
        var created = await keys.CreateKeyAsync("tokens-" + Guid.NewGuid().ToString("N")[..8]);
        using var http = server.CreateClient(apiKey: created.Key);
        var (status, json) = await http.PostAsync("/v1alpha/auth_tokens", """{"uses":0}""");
        Assert.Equal(200, status);
        var name = json!["name"]!.GetValue<string>();
        var (first, setupComplete) = await OpenAsync(name);
        await using (first) Assert.NotNull(setupComplete?["setupComplete"]);

        Assert.True(await keys.RevokeAsync(created.Id));
        var (second, message) = await OpenAsync(name);
        await using (second)
        {
            Assert.Null(message);
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, second.CloseStatus);
        }
    }
}
