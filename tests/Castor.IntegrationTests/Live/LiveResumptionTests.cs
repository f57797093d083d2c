using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Castor.Application.Keys;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Live;

/// <summary>Session resumption: <c>sessionResumptionUpdate</c> at turn boundaries, and a second connection that continues the session by handle.</summary>
[Collection(ServerCollection.Name)]
public sealed class LiveResumptionTests(CastorServerFixture server)
{
    internal const string Setup =
        """{"model":"models/gemini-2.5-flash","systemInstruction":{"parts":[{"text":"You tell stories."}]},"generationConfig":{"maxOutputTokens":6,"temperature":0},"sessionResumption":{}}""";

    internal static string ResumeSetup(string handle) =>
        """{"model":"models/gemini-2.5-flash","generationConfig":{"maxOutputTokens":6,"temperature":0},"sessionResumption":{"handle":""" + "\"" + handle + "\"}}";

    internal static string UserTurn(string text) =>
        "{\"clientContent\":{\"turns\":[{\"role\":\"user\",\"parts\":[{\"text\":\"" + text + "\"}]}],\"turnComplete\":true}}";

    /// <summary>One turn, then the sessionResumptionUpdate that follows its turnComplete.</summary>
    internal static async Task<(JsonNode Usage, JsonNode Update)> TurnAsync(LiveClient live, string text)
    {
        await live.SendAsync(UserTurn(text));
        var turn = await live.ReceiveTurnAsync();
        Assert.True(turn.Count > 0 && turn[^1]["serverContent"]?["turnComplete"] is not null, $"no turnComplete: close {live.CloseStatus} {live.CloseReason}");
        var update = await live.ReceiveAsync();
        Assert.True(update?["sessionResumptionUpdate"] is not null, update?.ToJsonString() ?? $"close {live.CloseStatus} {live.CloseReason}");
        return (turn[^1]["usageMetadata"]!, update!["sessionResumptionUpdate"]!);
    }

    private async Task<(WebSocketCloseStatus? Status, string? Reason)> ResumeRefusedAsync(string handle, string? key = CastorServerFixture.ApiKey)
    {
        await using var live = await LiveClient.ConnectAsync(LiveClient.Target(server.BaseAddress, key: key));
        await live.SendAsync("{\"setup\":" + ResumeSetup(handle) + "}");
        return await live.ReceiveCloseAsync();
    }

    [Fact]
    public async Task A_second_connection_with_the_handle_continues_the_conversation_and_gets_a_new_handle()
    {
        string handle;
        int firstPrompt;
        await using (var first = await LiveClient.SetUpAsync(server.BaseAddress, Setup))
        {
            var (usage, update) = await TurnAsync(first, "Lily had a dog named Max.");
            Assert.True(update["resumable"]!.GetValue<bool>());
            handle = update["newHandle"]!.GetValue<string>();
            Assert.False(string.IsNullOrEmpty(handle));
            firstPrompt = usage["promptTokenCount"]!.GetValue<int>();
        }

        const string question = "What did Lily have?";
        await using var resumed = await LiveClient.SetUpAsync(server.BaseAddress, ResumeSetup(handle));
        var (resumedUsage, next) = await TurnAsync(resumed, question);
        await using var fresh = await LiveClient.SetUpAsync(server.BaseAddress, Setup);
        var (freshUsage, _) = await TurnAsync(fresh, question);
        // The resumed prompt holds the first connection's question and answer; a fresh session's prompt does not.
        Assert.True(resumedUsage["promptTokenCount"]!.GetValue<int>() > freshUsage["promptTokenCount"]!.GetValue<int>() + 1,
            $"resumed {resumedUsage.ToJsonString()} fresh {freshUsage.ToJsonString()}");
        Assert.True(resumedUsage["promptTokenCount"]!.GetValue<int>() > firstPrompt);

        // Each boundary hands out a new handle; the one it replaced no longer resumes.
        var newHandle = next["newHandle"]!.GetValue<string>();
        Assert.NotEqual(handle, newHandle);
        var (status, reason) = await ResumeRefusedAsync(handle);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Contains("sessionResumption.handle", reason);
    }

    [Fact]
    public async Task A_session_without_sessionResumption_gets_no_updates()
    {
        await using var live = await LiveClient.SetUpAsync(server.BaseAddress);
        await live.SendAsync(UserTurn("Hello"));
        await live.ReceiveTurnAsync();
        await live.SendAsync(UserTurn("Hello again"));
        var second = await live.ReceiveTurnAsync();
        // The message after the first turnComplete was the second turn's, not an update.
        Assert.DoesNotContain(second, m => m["sessionResumptionUpdate"] is not null);
    }

    [Fact]
    public async Task An_unknown_handle_closes_with_1008_naming_the_handle()
    {
        var (status, reason) = await ResumeRefusedAsync("no-such-handle-0123456789");
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Contains("setup.sessionResumption.handle", reason);
        Assert.Contains("unknown", reason);
    }

    [Fact]
    public async Task Another_projects_handle_closes_with_1008()
    {
        string handle;
        await using (var live = await LiveClient.SetUpAsync(server.BaseAddress, Setup))
            handle = (await TurnAsync(live, "Tom had a cat.")).Update["newHandle"]!.GetValue<string>();

        var other = await server.App.Services.GetRequiredService<ApiKeyService>().CreateKeyAsync("resume-" + Guid.NewGuid().ToString("N")[..8]);
        var (status, reason) = await ResumeRefusedAsync(handle, other.Key);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Contains("another project", reason);
    }

    [Fact]
    public async Task A_resumed_session_keeps_its_model()
    {
        string handle;
        await using (var live = await LiveClient.SetUpAsync(server.BaseAddress, Setup))
            handle = (await TurnAsync(live, "Tom had a cat.")).Update["newHandle"]!.GetValue<string>();

        await using var resumed = await LiveClient.ConnectAsync(LiveClient.Target(server.BaseAddress));
        await resumed.SendAsync("{\"setup\":{\"model\":\"models/some-other-model\",\"sessionResumption\":{\"handle\":\"" + handle + "\"}}}");
        var (status, reason) = await resumed.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, status);
        Assert.Contains("setup.model", reason);
    }

    [Fact]
    public async Task A_boundary_with_function_calls_pending_is_not_resumable()
    {
        await using var live = await LiveClient.SetUpAsync(server.BaseAddress,
            """{"model":"models/gemini-2.5-flash","generationConfig":{"maxOutputTokens":200},"sessionResumption":{},"toolConfig":{"functionCallingConfig":{"mode":"ANY"}},"tools":[{"functionDeclarations":[{"name":"get_time","parametersJsonSchema":{"type":"object","properties":{"zone":{"type":"string","maxLength":4}},"required":["zone"],"additionalProperties":false}}]}]}""");
        await live.SendAsync(UserTurn("What time is it?"));
        var turn = await live.ReceiveTurnAsync();
        var calls = turn.Single(m => m["toolCall"] is not null)["toolCall"]!["functionCalls"]!.AsArray();
        var update = (await live.ReceiveAsync())!["sessionResumptionUpdate"]!;
        Assert.False(update["resumable"]!.GetValue<bool>());
        Assert.Null(update["newHandle"]);

        // Every call is answered (the model may make several at once); then the model continues.
        var responses = string.Join(",", calls.Select(c => "{\"id\":\"" + c!["id"]!.GetValue<string>() + "\",\"name\":\"get_time\",\"response\":{\"time\":\"12:00\"}}"));
        await live.SendAsync("{\"toolResponse\":{\"functionResponses\":[" + responses + "]}}");
        var answer = await live.ReceiveTurnAsync();
        Assert.NotNull(answer[^1]["serverContent"]?["turnComplete"]);
        var after = (await live.ReceiveAsync())!["sessionResumptionUpdate"]!;
        // With the calls answered, the model's next boundary is resumable (or pending again, if it called once more).
        if (answer.Any(m => m["toolCall"] is not null)) Assert.False(after["resumable"]!.GetValue<bool>());
        else Assert.True(after["resumable"]!.GetValue<bool>() && after["newHandle"] is not null);
    }
}
