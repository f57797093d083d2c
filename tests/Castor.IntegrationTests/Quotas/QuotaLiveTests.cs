using System.Net.WebSockets;
using Castor.IntegrationTests.Live;
using Castor.Storage.Relational;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Quotas;

/// <summary>Live sessions as the API limits them: concurrent sessions per project and model, refused at setup with the quota close; turns counted against TPM.</summary>
public sealed class QuotaLiveTests(QuotaServerFixture server) : IClassFixture<QuotaServerFixture>
{
    private const string Setup = """{"setup":{"model":"models/gemini-2.5-flash","generationConfig":{"responseModalities":["TEXT"],"maxOutputTokens":2}}}""";

    /// <summary>Opens a session and sends its setup; the first answer (null: the server closed).</summary>
    private async Task<(LiveClient Client, bool SetUp)> OpenAsync(string key, string setup = Setup)
    {
        var client = await LiveClient.ConnectAsync(LiveClient.Target(server.BaseAddress, key: key));
        await client.SendAsync(setup);
        return (client, (await client.ReceiveAsync())?["setupComplete"] is not null);
    }

    /// <summary>
    /// A session, retried while the project's one slot is still held: a closed session gives its slot back just after
    /// the close handshake, so the next setup may come a moment too early.
    /// </summary>
    private async Task<LiveClient> OpenWhenFreeAsync(string key, string setup = Setup)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (client, setUp) = await OpenAsync(key, setup);
            if (setUp) return client;
            Assert.True(client.CloseStatus == WebSocketCloseStatus.InternalServerError && attempt < 100, $"close {client.CloseStatus} {client.CloseReason}");
            await client.DisposeAsync();
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_session_over_the_projects_sessions_limit_is_closed_with_the_quota_error_and_every_close_frees_the_slot()
    {
        var key = await server.NewProjectKeyAsync("live-sessions", "live");
        var first = await OpenWhenFreeAsync(key);

        var (second, setUp) = await OpenAsync(key);
        Assert.False(setUp);
        Assert.Equal(WebSocketCloseStatus.InternalServerError, second.CloseStatus);
        Assert.StartsWith("You exceeded your current quota, please check your plan and billing details.", second.CloseReason);
        await second.DisposeAsync();

        // Another project has slots of its own.
        await using (await OpenWhenFreeAsync(await server.NewProjectKeyAsync("live-sessions-2", "live"))) { }

        // The client closes: the slot is free again.
        await first.DisposeAsync();
        var third = await OpenWhenFreeAsync(key);

        // The server closes the session over an invalid message: the slot is free again.
        await third.SendAsync("""{"clientContent":{"turns":[{"role":"user","parts":[{"text":"Hi"}]}],"turnComplete":true},"setup":{}}""");
        var (status, _) = await third.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, status);
        await third.DisposeAsync();
        await using var fourth = await OpenWhenFreeAsync(key);
    }

    [Fact]
    public async Task A_turn_is_counted_against_tpm_with_its_input_tokens_and_the_session_start_is_not()
    {
        var key = await server.NewProjectKeyAsync("live-tpm", "live-tpm");
        // One token a minute: the setup (no tokens) is admitted, the first turn's prompt is not.
        var (live, setUp) = await OpenAsync(key);
        await using var _ = live;
        Assert.True(setUp);
        await live.SendAsync("""{"realtimeInput":{"text":"Hello"}}""");
        var (status, reason) = await live.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.InternalServerError, status);
        Assert.StartsWith("You exceeded your current quota", reason);
    }

    [Fact]
    public async Task A_resumed_session_takes_the_slot_its_closed_connection_gave_back()
    {
        var key = await server.NewProjectKeyAsync("live-resume", "live");
        string handle;
        await using (var first = await OpenWhenFreeAsync(key, "{\"setup\":" + LiveResumptionTests.Setup + "}"))
            handle = (await LiveResumptionTests.TurnAsync(first, "Lily had a dog."))!.Update["newHandle"]!.GetValue<string>();

        // The client resumes on a new connection after the first closed: the slot it held is free for the resumed session,
        // which holds it again, so a fresh session of the project is refused.
        await using var resumed = await OpenWhenFreeAsync(key, "{\"setup\":" + LiveResumptionTests.ResumeSetup(handle) + "}");
        var (fresh, setUp) = await OpenAsync(key);
        await using var _ = fresh;
        Assert.False(setUp);
        Assert.Equal(WebSocketCloseStatus.InternalServerError, fresh.CloseStatus);
    }

    [Fact]
    public async Task A_draining_server_gives_back_its_sessions_slots()
    {
        var node = new QuotaServerFixture();
        await node.InitializeAsync();
        try
        {
            var key = await node.NewProjectKeyAsync("live-drain", "live");
            var live = await LiveClient.ConnectAsync(LiveClient.Target(node.BaseAddress, key: key));
            await using var _ = live;
            await live.SendAsync(Setup);
            Assert.NotNull((await live.ReceiveAsync())?["setupComplete"]);
            var database = node.App.Services.GetRequiredService<IRelationalDatabase>();
            Assert.Equal(1, await LeasesAsync(database));

            var stopping = node.App.StopAsync();
            await live.ReceiveCloseAsync();
            await stopping;
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, live.CloseStatus);
            Assert.Equal(0, await LeasesAsync(database));
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    private static async Task<long> LeasesAsync(IRelationalDatabase database)
    {
        await using var connection = await database.OpenConnectionAsync();
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM live_session_leases";
        return Convert.ToInt64(await count.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

