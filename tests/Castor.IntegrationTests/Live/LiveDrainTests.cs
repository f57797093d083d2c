using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Castor.IntegrationTests.Files;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Castor.IntegrationTests.Live;

/// <summary>Sessions outlive their server: a stopping host drains them with goAway, and a killed one is resumed from the database.</summary>
public sealed class LiveDrainTests : IDisposable
{
    private const string Key = "live-restart-key";
    private readonly string _data = Path.Combine(Path.GetTempPath(), "castor-live-kill-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task A_stopping_server_sends_goAway_with_its_shutdown_timeout_lets_the_running_turn_finish_then_closes_1001()
    {
        var server = new CastorServerFixture();
        await server.InitializeAsync();
        try
        {
            var shutdownTimeout = server.App.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout;
            await using var live = await LiveClient.SetUpAsync(server.BaseAddress,
                """{"model":"models/gemini-2.5-flash","generationConfig":{"maxOutputTokens":400,"stopSequences":["@@@"]},"sessionResumption":{}}""");
            await live.SendAsync(LiveResumptionTests.UserTurn("Tell me a long story"));
            Assert.NotNull((await live.ReceiveAsync())?["serverContent"]?["modelTurn"]);

            var stopping = server.App.StopAsync();
            var messages = new List<JsonNode>();
            while (await live.ReceiveAsync() is { } m) messages.Add(m);
            await stopping;

            var goAway = messages.FindIndex(m => m["goAway"] is not null);
            var turnComplete = messages.FindIndex(m => m["serverContent"]?["turnComplete"] is not null);
            Assert.True(goAway >= 0, string.Join("\n", messages.Select(m => m.ToJsonString())));
            Assert.Equal($"{(long)shutdownTimeout.TotalSeconds}s", messages[goAway]["goAway"]!["timeLeft"]!.GetValue<string>());
            // The turn that was running when goAway came finished, uninterrupted, and was saved for resumption before the close.
            Assert.True(turnComplete > goAway, string.Join("\n", messages.Select(m => m.ToJsonString())));
            Assert.DoesNotContain(messages, m => m["serverContent"]?["interrupted"] is not null);
            Assert.True(messages[^1]["sessionResumptionUpdate"]?["resumable"]?.GetValue<bool>());
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, live.CloseStatus);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_session_resumes_after_the_server_is_killed_and_restarted()
    {
        Directory.CreateDirectory(_data);
        string handle;
        int firstPrompt;
        await using (var first = await CastorProcess.StartAsync(_data, Key))
        {
            await using var live = await LiveClient.SetUpAsync(first.BaseAddress, LiveResumptionTests.Setup, Key);
            var (usage, update) = await LiveResumptionTests.TurnAsync(live, "Lily had a dog named Max.");
            handle = update["newHandle"]!.GetValue<string>();
            firstPrompt = usage["promptTokenCount"]!.GetValue<int>();
            // SIGKILL with the session open: nothing but what the turn boundary wrote survives.
            await first.KillAsync();
        }

        await using var second = await CastorProcess.StartAsync(_data, Key);
        await using var resumed = await LiveClient.SetUpAsync(second.BaseAddress, LiveResumptionTests.ResumeSetup(handle), Key);
        var (resumedUsage, _) = await LiveResumptionTests.TurnAsync(resumed, "What did Lily have?");
        await using var fresh = await LiveClient.SetUpAsync(second.BaseAddress, LiveResumptionTests.Setup, Key);
        var (freshUsage, _) = await LiveResumptionTests.TurnAsync(fresh, "What did Lily have?");
        Assert.True(resumedUsage["promptTokenCount"]!.GetValue<int>() > freshUsage["promptTokenCount"]!.GetValue<int>() + 1,
            $"resumed {resumedUsage.ToJsonString()} fresh {freshUsage.ToJsonString()}");
        Assert.True(resumedUsage["promptTokenCount"]!.GetValue<int>() > firstPrompt);
    }

    public void Dispose()
    {
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
