using System.Net.WebSockets;
using System.Text;

namespace Castor.IntegrationTests.Live;

public sealed class LiveLimitsTests(LiveServerFixture server) : IClassFixture<LiveServerFixture>
{
    [Fact]
    public async Task A_session_over_Live_MaxSessions_is_closed_with_1013_and_the_slot_frees_when_one_ends()
    {
        var open = new List<LiveClient>();
        for (var i = 0; i < LiveServerFixture.MaxSessions; i++) open.Add(await LiveClient.SetUpAsync(server.BaseAddress));

        await using (var extra = await LiveClient.ConnectAsync(LiveClient.Target(server.BaseAddress)))
        {
            var (status, reason) = await extra.ReceiveCloseAsync();
            Assert.Equal((WebSocketCloseStatus)1013, status);
            Assert.Contains("Live:MaxSessions", reason);
        }

        await open[0].DisposeAsync();
        open.RemoveAt(0);
        open.Add(await LiveClient.SetUpWhenFreeAsync(server.BaseAddress));
        foreach (var client in open) await client.DisposeAsync();
    }

    [Fact]
    public async Task A_session_at_Live_MaxSessionDuration_gets_goAway_with_the_time_left_then_a_close_that_says_why()
    {
        await using var live = await LiveClient.SetUpWhenFreeAsync(server.BaseAddress);
        var goAway = await live.ReceiveAsync();
        Assert.Equal("2s", goAway!["goAway"]!["timeLeft"]!.GetValue<string>());
        var (status, reason) = await live.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.NormalClosure, status);
        Assert.Contains("Live:MaxSessionDuration", reason);
    }

    private static readonly string[] Seeds =
    [
        """{"clientContent":{"turns":[{"role":"user","parts":[{"text":"Once upon a time"}]}],"turnComplete":true}}""",
        """{"clientContent":{"turns":[{"role":"model","parts":[{"text":"Hi"}]},{"role":"user","parts":[{"text":"Go on"}]}],"turnComplete":false}}""",
        """{"realtimeInput":{"text":"Tell me a story"}}""",
        """{"realtimeInput":{"activityStart":{}}}""",
        """{"realtimeInput":{"activityEnd":{}}}""",
        """{"toolResponse":{"functionResponses":[{"id":"call_1","name":"f","response":{"ok":true}}]}}""",
        """{"client_content":{"turns":[{"parts":[{"text":"snake case"}]}],"turn_complete":true}}""",
        """{"setup":{"model":"models/gemini-2.5-flash"}}""",
    ];

    private const string Alphabet = "{}[]\":,.-0123456789eE truefalsnl\\u\u00e9\u0000\uffff";

    /// <summary>One mutation of a seed frame: flipped, dropped, duplicated or inserted bytes, a cut, or a deep nesting.</summary>
    private static byte[] Mutate(Random random)
    {
        var bytes = Encoding.UTF8.GetBytes(Seeds[random.Next(Seeds.Length)]).ToList();
        var edits = 1 + random.Next(4);
        for (var e = 0; e < edits && bytes.Count > 0; e++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(8))); break;
                case 2: bytes.InsertRange(at, bytes.Skip(at).Take(1 + random.Next(16)).ToList()); break;
                case 3: bytes.InsertRange(at, Encoding.UTF8.GetBytes(Alphabet[random.Next(Alphabet.Length)].ToString())); break;
                case 4: bytes.RemoveRange(at, bytes.Count - at); break;
                case 5: bytes.InsertRange(at, Encoding.UTF8.GetBytes(new string('[', 200 + random.Next(100)))); break;
                default: bytes.InsertRange(at, Encoding.UTF8.GetBytes(random.Next(3) switch { 0 => "1e400", 1 => "-99999999999999999999", _ => "null" })); break;
            }
        }
        return bytes.ToArray();
    }

    private static bool IsUtf8(byte[] bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Fuzz_mutated_frames_never_crash_the_server_and_every_close_has_a_code_and_reason()
    {
        var random = new Random(17);
        const int Frames = 600, PerSession = 12;
        var closes = new List<(WebSocketCloseStatus? Status, string? Reason)>();
        for (var sent = 0; sent < Frames;)
        {
            await using var live = await LiveClient.SetUpWhenFreeAsync(server.BaseAddress,
                """{"model":"models/gemini-2.5-flash","generationConfig":{"maxOutputTokens":2}}""");
            var serverClosed = false;
            var reader = Task.Run(async () =>
            {
                while (await live.ReceiveAsync(timeoutSeconds: 300) is not null)
                {
                }
                serverClosed = true;
            });
            for (var i = 0; i < PerSession && sent < Frames && !reader.IsCompleted; i++, sent++)
            {
                // A text frame that is not UTF-8 is refused by the runtime's WebSocket itself (1007, as RFC 6455 asks, but
                // with no reason) before the session sees it; such bytes go as a binary frame, which reaches the session's parser.
                var frame = Mutate(random);
                try { await live.SendAsync(frame, IsUtf8(frame) ? WebSocketMessageType.Text : WebSocketMessageType.Binary); }
                catch (WebSocketException) { break; }
            }
            if (!reader.IsCompleted)
            {
                // Give the server a moment to refuse the last frames before this side closes.
                await Task.WhenAny(reader, Task.Delay(200));
            }
            if (reader.IsCompleted && serverClosed) closes.Add((live.CloseStatus, live.CloseReason));
        }

        Assert.NotEmpty(closes);
        Assert.All(closes, c =>
        {
            Assert.NotNull(c.Status);
            Assert.NotEqual(WebSocketCloseStatus.InternalServerError, c.Status);
            Assert.False(string.IsNullOrEmpty(c.Reason));
        });

        // Still serving: REST, and a new session with a whole turn.
        using var rest = server.CreateClient();
        var response = await rest.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent",
            new StringContent("""{"contents":[{"parts":[{"text":"Hi"}]}],"generationConfig":{"maxOutputTokens":2}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(200, (int)response.StatusCode);
        await using var after = await LiveClient.SetUpWhenFreeAsync(server.BaseAddress);
        await after.SendAsync("""{"realtimeInput":{"text":"Hello"}}""");
        Assert.True((await after.ReceiveTurnAsync())[^1]["serverContent"]!["turnComplete"]!.GetValue<bool>());
    }
}
