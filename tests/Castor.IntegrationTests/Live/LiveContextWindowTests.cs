using System.Net.WebSockets;
using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.Live;

/// <summary>
/// <c>contextWindowCompression.slidingWindow</c> on a 128-token context: the oldest turns are dropped instead of the
/// session failing; without it, a session that outgrows the context gets the API's error. Also expired handles.
/// </summary>
public sealed class LiveContextWindowTests(SmallContextLiveFixture server) : IClassFixture<SmallContextLiveFixture>
{
    private const string Turn = "Lily and Tom went to the park to play with a big red ball.";

    private static string Setup(string compression) =>
        """{"model":"models/gemini-2.5-flash","generationConfig":{"maxOutputTokens":4,"temperature":0}""" + compression + "}";

    /// <summary>Sends the same turn until <paramref name="turns"/> completed or the server closed; the usage of each completed turn.</summary>
    private static async Task<List<JsonNode>> TalkAsync(LiveClient live, int turns)
    {
        var usages = new List<JsonNode>();
        for (var i = 0; i < turns; i++)
        {
            await live.SendAsync(LiveResumptionTests.UserTurn(Turn));
            var turn = await live.ReceiveTurnAsync();
            if (turn.Count == 0 || turn[^1]["serverContent"]?["turnComplete"] is null) break;
            usages.Add(turn[^1]["usageMetadata"]!);
        }
        return usages;
    }

    [Fact]
    public async Task Without_compression_a_session_that_outgrows_the_context_closes_with_the_APIs_error()
    {
        await using var live = await LiveClient.SetUpAsync(server.BaseAddress, Setup(""));
        var usages = await TalkAsync(live, 12);
        // TalkAsync stopped at the close.
        Assert.True(usages.Count < 12, "the context should have run out");
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, live.CloseStatus);
        Assert.Contains("exceeds the maximum number of tokens", live.CloseReason);
    }

    [Fact]
    public async Task A_sliding_window_drops_the_oldest_turns_and_the_session_goes_on()
    {
        await using var live = await LiveClient.SetUpAsync(server.BaseAddress, Setup(""","contextWindowCompression":{"slidingWindow":{}}"""));
        var usages = await TalkAsync(live, 12);
        Assert.True(usages.Count == 12, $"closed after {usages.Count} turns: {live.CloseStatus} {live.CloseReason}");
        var prompts = usages.Select(u => u["promptTokenCount"]!.GetValue<int>()).ToList();
        // The prompt grew, then shrank when old turns were dropped, and never reached the context.
        Assert.Contains(prompts.Skip(1).Zip(prompts), p => p.First < p.Second);
        Assert.All(prompts, p => Assert.True(p < SmallContextLiveFixture.ContextSize, string.Join(",", prompts)));
    }

    [Fact]
    public async Task TriggerTokens_and_targetTokens_bound_the_prompt()
    {
        await using var live = await LiveClient.SetUpAsync(server.BaseAddress,
            Setup(""","contextWindowCompression":{"triggerTokens":100,"slidingWindow":{"targetTokens":80}}"""));
        var usages = await TalkAsync(live, 8);
        Assert.True(usages.Count == 8, $"closed after {usages.Count} turns: {live.CloseStatus} {live.CloseReason}");
        var prompts = usages.Select(u => u["promptTokenCount"]!.GetValue<int>()).ToList();
        // One exchange is about 50 tokens here: the third turn reaches the trigger, and the window keeps the previous
        // exchange (it fits the target), not just the newest turn as the default target (half the trigger) would.
        Assert.All(prompts, p => Assert.True(p < 100, string.Join(",", prompts)));
        Assert.All(prompts.Skip(1), p => Assert.True(p > prompts[0], string.Join(",", prompts)));
    }

    [Fact]
    public async Task An_expired_handle_closes_with_1008_naming_the_handle()
    {
        string handle;
        await using (var live = await LiveClient.SetUpAsync(server.BaseAddress, Setup(""","sessionResumption":{}""")))
            handle = (await LiveResumptionTests.TurnAsync(live, "Tom had a cat.")).Update["newHandle"]!.GetValue<string>();

        await using var resumed = await LiveClient.ConnectAsync(LiveClient.Target(server.BaseAddress));
        await resumed.SendAsync("{\"setup\":" + LiveResumptionTests.ResumeSetup(handle) + "}");
        var (status, reason) = await resumed.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Contains("setup.sessionResumption.handle", reason);
        Assert.Contains("expired", reason);
    }
}
