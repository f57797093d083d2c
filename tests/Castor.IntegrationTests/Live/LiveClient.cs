using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.Live;

/// <summary>A raw BidiGenerateContent client: JSON messages in and out, and the close the server sent.</summary>
public sealed class LiveClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly byte[] _buffer = new byte[64 * 1024];

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;
    public string? CloseReason => _socket.CloseStatusDescription;

    public static string Target(Uri baseAddress, string version = "v1beta", string? key = CastorServerFixture.ApiKey, bool doubleSlash = false) =>
        $"ws://{baseAddress.Authority}{(doubleSlash ? "//" : "/")}ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent" +
        (key is null ? "" : "?key=" + Uri.EscapeDataString(key));

    public static async Task<LiveClient> ConnectAsync(string target)
    {
        var client = new LiveClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await client._socket.ConnectAsync(new Uri(target), timeout.Token);
        return client;
    }

    public const string DefaultSetup = """{"model":"models/gemini-2.5-flash","generationConfig":{"responseModalities":["TEXT"],"maxOutputTokens":8}}""";

    /// <summary>Connects and sends <paramref name="setup"/>; returns once setupComplete arrived.</summary>
    public static async Task<LiveClient> SetUpAsync(Uri baseAddress, string setup = DefaultSetup, string? key = CastorServerFixture.ApiKey)
    {
        var client = await ConnectAsync(Target(baseAddress, key: key));
        await client.SendAsync("{\"setup\":" + setup + "}");
        var first = await client.ReceiveAsync();
        Assert.True(first?["setupComplete"] is not null, $"expected setupComplete, got {first?.ToJsonString() ?? $"close {client.CloseStatus} {client.CloseReason}"}");
        return client;
    }

    /// <summary>
    /// <see cref="SetUpAsync"/>, retried while the server is full: it frees a session's slot just after the close
    /// handshake, so a session opened right after another closed may still find it taken.
    /// </summary>
    public static async Task<LiveClient> SetUpWhenFreeAsync(Uri baseAddress, string setup = DefaultSetup)
    {
        for (var attempt = 0; ; attempt++)
        {
            var client = await ConnectAsync(Target(baseAddress));
            await client.SendAsync("{\"setup\":" + setup + "}");
            var first = await client.ReceiveAsync();
            if (first?["setupComplete"] is not null) return client;
            Assert.True(client.CloseStatus == (WebSocketCloseStatus)1013 && attempt < 50, $"expected setupComplete, got close {client.CloseStatus} {client.CloseReason}");
            await client.DisposeAsync();
            await Task.Delay(50);
        }
    }

    public Task SendAsync(string json, WebSocketMessageType type = WebSocketMessageType.Text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(json), type, true, CancellationToken.None);

    public Task SendAsync(byte[] bytes, WebSocketMessageType type) => _socket.SendAsync(bytes, type, true, CancellationToken.None);

    /// <summary>The next server message; null once the server closed (see <see cref="CloseStatus"/>).</summary>
    public async Task<JsonNode?> ReceiveAsync(int timeoutSeconds = 120)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        using var message = new MemoryStream();
        while (true)
        {
            var result = await _socket.ReceiveAsync(_buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            message.Write(_buffer, 0, result.Count);
            if (result.EndOfMessage) return JsonNode.Parse(message.ToArray());
        }
    }

    /// <summary>Messages up to and including the next turnComplete (or until the server closes).</summary>
    public async Task<List<JsonNode>> ReceiveTurnAsync()
    {
        var messages = new List<JsonNode>();
        while (await ReceiveAsync() is { } m)
        {
            messages.Add(m);
            if (m["serverContent"]?["turnComplete"]?.GetValue<bool>() == true) break;
        }
        return messages;
    }

    /// <summary>Reads until the server closes; returns the close it sent.</summary>
    public async Task<(WebSocketCloseStatus? Status, string? Reason)> ReceiveCloseAsync()
    {
        while (await ReceiveAsync() is not null)
        {
        }
        return (CloseStatus, CloseReason);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        _socket.Dispose();
    }
}
