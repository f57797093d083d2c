using System.Net.WebSockets;
using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.Live;

[Collection(ServerCollection.Name)]
public sealed class LiveSessionTests(CastorServerFixture server)
{
    private static string UserTurn(string text, bool turnComplete = true) =>
        "{\"clientContent\":{\"turns\":[{\"role\":\"user\",\"parts\":[{\"text\":\"" + text + "\"}]}],\"turnComplete\":" + (turnComplete ? "true" : "false") + "}}";

    private static bool Has(JsonNode m, string serverContentField) => m["serverContent"]?[serverContentField] is not null;

    [Fact]
    public async Task Setup_is_answered_by_setupComplete_and_a_turn_streams_modelTurn_then_generationComplete_then_turnComplete_with_usage()
    {
        await using var live = await LiveClient.SetUpAsync(server.BaseAddress);
        await live.SendAsync(UserTurn("Once upon a time"));
        var turn = await live.ReceiveTurnAsync();

        var modelTurns = turn.TakeWhile(m => !Has(m, "generationComplete")).ToList();
        Assert.NotEmpty(modelTurns);
        Assert.All(modelTurns, m => Assert.Equal("model", m["serverContent"]!["modelTurn"]!["role"]!.GetValue<string>()));
        Assert.True(Has(turn[^2], "generationComplete"));
        var last = turn[^1];
        Assert.True(last["serverContent"]!["turnComplete"]!.GetValue<bool>());
        var usage = last["usageMetadata"]!;
        Assert.True(usage["promptTokenCount"]!.GetValue<int>() > 0);
        Assert.True(usage["responseTokenCount"]!.GetValue<int>() > 0);
        Assert.Equal(usage["promptTokenCount"]!.GetValue<int>() + usage["responseTokenCount"]!.GetValue<int>(), usage["totalTokenCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_SDKs_double_slash_target_and_binary_frames_are_accepted()
    {
        await using var live = await LiveClient.ConnectAsync(LiveClient.Target(server.BaseAddress, "v1alpha", doubleSlash: true));
        await live.SendAsync("""{"setup":{"model":"models/gemini-2.5-flash"}}""", WebSocketMessageType.Binary);
        Assert.NotNull((await live.ReceiveAsync())!["setupComplete"]);
        await live.SendAsync("""{"realtimeInput":{"text":"Hello"}}""", WebSocketMessageType.Binary);
        Assert.True((await live.ReceiveTurnAsync())[^1]["serverContent"]!["turnComplete"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Later_turns_reuse_the_conversation_resident_in_the_cache()
    {
        await using var live = await LiveClient.SetUpAsync(server.BaseAddress,
            """{"model":"models/gemini-2.5-flash","systemInstruction":{"parts":[{"text":"You tell short stories about a cat named Tom who lives in a big house."}]},"generationConfig":{"maxOutputTokens":6,"temperature":0}}""");
        await live.SendAsync(UserTurn("Tell me about Tom"));
        var first = (await live.ReceiveTurnAsync())[^1]["usageMetadata"]!;
        await live.SendAsync("""{"realtimeInput":{"text":"And then?"}}""");
        var second = (await live.ReceiveTurnAsync())[^1]["usageMetadata"]!;
        // The second prompt holds the first turn (question and answer): it is longer, and that whole prefix came from the cache.
        Assert.True(second["promptTokenCount"]!.GetValue<int>() > first["promptTokenCount"]!.GetValue<int>());
        Assert.True(second["cachedContentTokenCount"]?.GetValue<int>() >= first["promptTokenCount"]!.GetValue<int>() - 1,
            second.ToJsonString());
    }

    [Fact]
    public async Task History_without_turnComplete_waits_and_the_next_complete_turn_sees_it()
    {
        await using var live = await LiveClient.SetUpAsync(server.BaseAddress);
        await live.SendAsync(UserTurn("Lily had a dog.", turnComplete: false));
        await live.SendAsync(UserTurn("What did Lily have?"));
        var turn = await live.ReceiveTurnAsync();
        // One answer only: the first message started no turn of its own.
        Assert.Single(turn, m => Has(m, "turnComplete"));
        Assert.DoesNotContain(turn, m => Has(m, "interrupted"));
    }

    [Fact]
    public async Task New_input_interrupts_the_running_turn()
    {
        await using var live = await LiveClient.SetUpAsync(server.BaseAddress,
            """{"model":"models/gemini-2.5-flash","generationConfig":{"maxOutputTokens":400,"stopSequences":["@@@"]}}""");
        await live.SendAsync(UserTurn("Tell me a long story"));
        var firstPiece = await live.ReceiveAsync();
        Assert.NotNull(firstPiece!["serverContent"]!["modelTurn"]);
        await live.SendAsync("""{"realtimeInput":{"text":"Stop, tell me another"}}""");

        var messages = new List<JsonNode>();
        while (await live.ReceiveAsync() is { } m)
        {
            messages.Add(m);
            if (Has(m, "turnComplete")) break;
        }
        var interrupted = messages.FindIndex(m => m["serverContent"]?["interrupted"]?.GetValue<bool>() == true);
        Assert.True(interrupted >= 0, string.Join("\n", messages.Select(m => m.ToJsonString())));
        // The interrupted turn never completes: the one turnComplete that follows belongs to the new input.
        Assert.Single(messages, m => Has(m, "turnComplete"));
        Assert.True(messages.FindIndex(m => Has(m, "turnComplete")) > interrupted);
    }

    private const string ToolSetup = """
        {"model":"models/gemini-2.5-flash","generationConfig":{"maxOutputTokens":300,"seed":4},
         "tools":[{"functionDeclarations":[{"name":"get_time","parametersJsonSchema":{"type":"object","properties":{"zone":{"type":"string","maxLength":6}},"required":["zone"],"additionalProperties":false}}]}],
         "toolConfig":{"functionCallingConfig":{"mode":"ANY"}}}
        """;

    [Fact]
    public async Task A_function_call_arrives_as_toolCall_and_the_toolResponse_continues_the_conversation()
    {
        await using var live = await LiveClient.SetUpAsync(server.BaseAddress, ToolSetup);
        await live.SendAsync(UserTurn("What time is it?"));
        var turn = await live.ReceiveTurnAsync();
        var calls = turn.Single(m => m["toolCall"] is not null)["toolCall"]!["functionCalls"]!.AsArray();
        Assert.All(calls, call =>
        {
            Assert.Equal("get_time", call!["name"]!.GetValue<string>());
            Assert.NotNull(call["args"]!["zone"]);
            Assert.False(string.IsNullOrEmpty(call["id"]!.GetValue<string>()));
        });
        Assert.NotNull(turn[^1]["usageMetadata"]);

        // The model continues once every call is answered.
        var responses = calls.Select(c => "{\"id\":\"" + c!["id"]!.GetValue<string>() + "\",\"name\":\"get_time\",\"response\":{\"time\":\"12:00\"}}");
        await live.SendAsync("{\"toolResponse\":{\"functionResponses\":[" + string.Join(",", responses) + "]}}");
        var next = await live.ReceiveTurnAsync();
        Assert.True(next[^1]["serverContent"]!["turnComplete"]!.GetValue<bool>());
        // The second prompt holds the call and its response, so it is longer than the first.
        Assert.True(next[^1]["usageMetadata"]!["promptTokenCount"]!.GetValue<int>() > turn[^1]["usageMetadata"]!["promptTokenCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task New_input_instead_of_a_toolResponse_cancels_the_pending_calls()
    {
        await using var live = await LiveClient.SetUpAsync(server.BaseAddress, ToolSetup);
        await live.SendAsync(UserTurn("What time is it?"));
        var ids = (await live.ReceiveTurnAsync()).Single(m => m["toolCall"] is not null)["toolCall"]!["functionCalls"]!.AsArray()
            .Select(c => c!["id"]!.GetValue<string>()).Order().ToList();
        await live.SendAsync("""{"realtimeInput":{"text":"Never mind"}}""");
        var cancellation = await live.ReceiveAsync();
        Assert.Equal(ids, cancellation!["toolCallCancellation"]!["ids"]!.AsArray().Select(i => i!.GetValue<string>()).Order().ToList());
        var next = await live.ReceiveTurnAsync();
        Assert.True(next[^1]["serverContent"]!["turnComplete"]!.GetValue<bool>());
    }
}
