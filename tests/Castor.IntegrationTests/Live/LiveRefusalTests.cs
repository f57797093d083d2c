using System.Net.WebSockets;

namespace Castor.IntegrationTests.Live;

/// <summary>Every refusal is a close with the code and a reason the SDK's onclose shows; none is a bare HTTP error.</summary>
[Collection(ServerCollection.Name)]
public sealed class LiveRefusalTests(CastorServerFixture server)
{
    private async Task<(WebSocketCloseStatus? Status, string? Reason)> CloseAfterAsync(params string[] messages)
    {
        await using var live = await LiveClient.ConnectAsync(LiveClient.Target(server.BaseAddress));
        foreach (var message in messages)
        {
            try { await live.SendAsync(message); }
            catch (WebSocketException) { break; }
        }
        return await live.ReceiveCloseAsync();
    }

    [Theory]
    [InlineData("wrong-key-123456", "API key not valid")]
    [InlineData(null, "unregistered callers")]
    public async Task A_bad_or_missing_key_closes_with_1008_and_the_APIs_reason(string? key, string reason)
    {
        await using var live = await LiveClient.ConnectAsync(LiveClient.Target(server.BaseAddress, key: key));
        await live.SendAsync("""{"setup":{"model":"models/gemini-2.5-flash"}}""");
        var (status, text) = await live.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Contains(reason, text);
    }

    [Fact]
    public async Task A_first_message_other_than_setup_closes_with_1007()
    {
        var (status, reason) = await CloseAfterAsync("""{"realtimeInput":{"text":"hi"}}""");
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, status);
        Assert.Contains("setup", reason);
    }

    [Fact]
    public async Task Malformed_JSON_closes_with_1007_naming_the_problem()
    {
        var (status, reason) = await CloseAfterAsync("""{"setup":{"model":""");
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, status);
        Assert.StartsWith("Invalid JSON payload received", reason);
    }

    [Fact]
    public async Task AUDIO_output_is_refused_because_there_is_no_speech_engine_yet()
    {
        var (status, reason) = await CloseAfterAsync("""{"setup":{"model":"models/gemini-2.5-flash","generationConfig":{"responseModalities":["AUDIO"]}}}""");
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, status);
        Assert.Contains("AUDIO output is not available", reason);
    }

    [Theory]
    [InlineData("""{"model":"models/gemini-2.5-flash","tools":[{"googleSearch":{}}]}""", "setup.tools[0].googleSearch")]
    [InlineData("""{"model":"models/gemini-2.5-flash","generationConfig":{"thinkingConfig":{"thinkingLevel":"ENORMOUS"}}}""", "setup.generationConfig.thinkingConfig.thinkingLevel")]
    [InlineData("""{"model":"models/gemini-2.5-flash","tools":[{"functionDeclarations":[{"name":"f","parameters":[]}]}]}""", "setup.tools[0].functionDeclarations[0].parameters")]
    [InlineData("""{"generationConfig":{}}""", "setup.model")]
    public async Task An_invalid_setup_closes_with_1007_naming_the_field(string setup, string field)
    {
        var (status, reason) = await CloseAfterAsync("{\"setup\":" + setup + "}");
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, status);
        Assert.Contains(field, reason);
    }

    [Fact]
    public async Task An_unknown_model_closes_with_1008()
    {
        var (status, reason) = await CloseAfterAsync("""{"setup":{"model":"models/no-such-model"}}""");
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Contains("no-such-model", reason);
    }

    [Fact]
    public async Task A_message_over_the_size_limit_closes_with_1009()
    {
        var (status, reason) = await CloseAfterAsync("{\"setup\":{\"model\":\"" + new string('a', 5 * 1024 * 1024) + "\"}}");
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, status);
        Assert.False(string.IsNullOrEmpty(reason));
    }

    [Fact]
    public async Task Realtime_audio_is_refused_by_field_until_speech_lands()
    {
        await using var live = await LiveClient.SetUpAsync(server.BaseAddress);
        await live.SendAsync("""{"realtimeInput":{"audio":{"data":"cGNt","mimeType":"audio/pcm;rate=16000"}}}""");
        var (status, reason) = await live.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, status);
        Assert.Contains("realtimeInput.audio", reason);
    }

    [Fact]
    public async Task A_plain_GET_without_upgrade_is_answered_with_the_APIs_400()
    {
        using var client = server.CreateClient();
        var response = await client.GetAsync("/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent");
        Assert.Equal(400, (int)response.StatusCode);
    }
}
