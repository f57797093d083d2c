using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Castor.Bench;

/// <summary>
/// (j) Live sessions: time to first token (a turn sent → its first <c>modelTurn</c> message) of turn 10 against turn 1
/// in one BidiGenerateContent session. The conversation stays resident in the KV cache between turns, so turn 10
/// computes only its own question: target ≤ 1.5. Then the session is resumed on a new connection by its handle
/// (<c>sessionResumption</c>) and that connection's first turn is timed against a fresh session's first turn.
/// </summary>
public sealed class LiveBench(BenchOptions options, string modelPath, Action<string> log)
{
    public const double Target = 1.5;
    private const int Turns = 10;

    public async Task<JsonObject> RunAsync(CancellationToken cancellationToken)
    {
        var runs = Math.Max(1, options.Runs);
        var tokens = Math.Min(options.Tokens, 16);
        log($"(j) Live sessions: {runs} sessions of {Turns} turns, {tokens}-token answers");
        // Sessions grow by a question and an answer per turn: the context holds all ten.
        await using var server = await BenchServer.StartAsync(modelPath, options.Threads, 1, Math.Max(options.ContextSize, 2048), options.Verbose, cancellationToken);

        var setup = new JsonObject
        {
            ["model"] = "models/" + server.ModelId,
            // With a system instruction every prompt is a templated conversation; a lone user turn is sent as plain text
            // (the story models continue it), which the second turn's template would not share as a prefix.
            ["systemInstruction"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = "You tell short stories." }) },
            ["generationConfig"] = new JsonObject { ["maxOutputTokens"] = tokens, ["temperature"] = 0 },
            ["sessionResumption"] = new JsonObject(),
        };
        var first = new List<double>();
        var tenth = new List<double>();
        var resumed = new List<double>();
        var fresh = new List<double>();
        var computedFirst = new List<double>();
        var computedTenth = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            // Each session has its own system instruction, so its first turn computes its whole prompt as a new
            // conversation's first turn does (a shared one would be resident from the previous run).
            var session = Session(setup, $"session {run + 1}");
            string handle;
            var times = new List<double>();
            var computed = new List<int>();
            var prompts = new List<int>();
            await using (var live = await LiveSocket.OpenAsync(server, session, cancellationToken))
            {
                for (var turn = 0; turn < Turns; turn++)
                {
                    times.Add(await live.TurnAsync(Prompts.Story(run * 100 + turn + 1), cancellationToken));
                    prompts.Add(live.LastPromptTokens);
                    computed.Add(live.LastPromptTokens - live.LastCachedTokens);
                }
                handle = live.LastHandle ?? throw new BenchException("The session handed out no resumption handle.");
            }
            first.Add(times[0]);
            tenth.Add(times[^1]);
            computedFirst.Add(computed[0]);
            computedTenth.Add(computed[^1]);

            var resume = (JsonObject)session.DeepClone();
            resume["sessionResumption"] = new JsonObject { ["handle"] = handle };
            await using (var live = await LiveSocket.OpenAsync(server, resume, cancellationToken))
                resumed.Add(await live.TurnAsync(Prompts.Story(run * 100 + 50), cancellationToken));
            await using (var live = await LiveSocket.OpenAsync(server, Session(setup, $"session {run + 1}, a fresh one"), cancellationToken))
                fresh.Add(await live.TurnAsync(Prompts.Story(run * 100 + 51), cancellationToken));
            log(string.Create(CultureInfo.InvariantCulture,
                $"  run {run + 1}: turn 1 {times[0]:0.0} ms, turn 10 {times[^1]:0.0} ms (turns: {string.Join(" / ", times.Select(t => t.ToString("0.0", CultureInfo.InvariantCulture)))}); " +
                $"prompt tokens computed / total per turn: {string.Join(" ", computed.Zip(prompts, (c, p) => $"{c}/{p}"))}; " +
                $"resumed first turn {resumed[^1]:0.0} ms, fresh session {fresh[^1]:0.0} ms"));
        }
        var ratio = Stats.Median(tenth) / Stats.Median(first);
        var resumedRatio = Stats.Median(resumed) / Stats.Median(fresh);
        log(string.Create(CultureInfo.InvariantCulture,
            $"  TTFT turn 10 / turn 1: {Stats.Median(tenth):0.0} / {Stats.Median(first):0.0} ms = {ratio:0.00} (target ≤ {Target:0.0}: {(ratio <= Target ? "PASS" : "FAIL")}); " +
            $"resumed / fresh first turn: {resumedRatio:0.00}; prompt tokens computed, turn 10 / turn 1: {Stats.Median(computedTenth):0} / {Stats.Median(computedFirst):0}"));
        return new JsonObject
        {
            ["turns"] = Turns,
            ["tokens"] = tokens,
            ["turn1TtftMs"] = Array(first),
            ["turn10TtftMs"] = Array(tenth),
            ["turn10ToTurn1Ratio"] = Math.Round(ratio, 3),
            ["target"] = Target,
            ["resumedFirstTurnTtftMs"] = Array(resumed),
            ["freshFirstTurnTtftMs"] = Array(fresh),
            ["resumedToFreshRatio"] = Math.Round(resumedRatio, 3),
            ["turn1ComputedPromptTokens"] = Array(computedFirst),
            ["turn10ComputedPromptTokens"] = Array(computedTenth),
        };
    }

    private static JsonArray Array(List<double> values) => new(values.Select(v => (JsonNode?)Math.Round(v, 1)).ToArray());

    /// <summary>A raw BidiGenerateContent client: one turn at a time, timing its first modelTurn.</summary>
    private sealed class LiveSocket : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket = new();
        private readonly byte[] _buffer = new byte[64 * 1024];

        public string? LastHandle { get; private set; }
        public int LastPromptTokens { get; private set; }
        public int LastCachedTokens { get; private set; }

        public static async Task<LiveSocket> OpenAsync(BenchServer server, JsonObject setup, CancellationToken cancellationToken)
        {
            var live = new LiveSocket();
            var target = $"ws://{server.BaseAddress.Authority}/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key={BenchServer.ApiKey}";
            await live._socket.ConnectAsync(new Uri(target), cancellationToken);
            await live.SendAsync(new JsonObject { ["setup"] = setup.DeepClone() }, cancellationToken);
            var answer = await live.ReceiveAsync(cancellationToken);
            if (answer?["setupComplete"] is null)
                throw new BenchException($"The Live setup was refused: {answer?.ToJsonString() ?? $"{live._socket.CloseStatus} {live._socket.CloseStatusDescription}"}");
            return live;
        }

        /// <summary>Sends a user turn; returns the milliseconds to its first modelTurn, after reading the turn and its resumption update.</summary>
        public async Task<double> TurnAsync(string text, CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            await SendAsync(new JsonObject
            {
                ["clientContent"] = new JsonObject
                {
                    ["turns"] = new JsonArray(new JsonObject { ["role"] = "user", ["parts"] = new JsonArray(new JsonObject { ["text"] = text }) }),
                    ["turnComplete"] = true,
                },
            }, cancellationToken);
            var ttft = double.NaN;
            while (true)
            {
                var message = await ReceiveAsync(cancellationToken)
                              ?? throw new BenchException($"The Live session closed: {_socket.CloseStatus} {_socket.CloseStatusDescription}");
                if (double.IsNaN(ttft) && message["serverContent"]?["modelTurn"] is not null) ttft = clock.Elapsed.TotalMilliseconds;
                if (message["usageMetadata"] is { } usage)
                {
                    LastPromptTokens = usage["promptTokenCount"]?.GetValue<int>() ?? 0;
                    LastCachedTokens = usage["cachedContentTokenCount"]?.GetValue<int>() ?? 0;
                }
                if (message["sessionResumptionUpdate"] is { } update)
                {
                    LastHandle = update["newHandle"]?.GetValue<string>() ?? LastHandle;
                    return ttft;
                }
            }
        }

        private Task SendAsync(JsonObject message, CancellationToken cancellationToken) =>
            _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, cancellationToken);

        private async Task<JsonNode?> ReceiveAsync(CancellationToken cancellationToken)
        {
            using var message = new MemoryStream();
            while (true)
            {
                var result = await _socket.ReceiveAsync(_buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close) return null;
                message.Write(_buffer, 0, result.Count);
                if (result.EndOfMessage) return JsonNode.Parse(message.ToArray());
            }
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

    private static JsonObject Session(JsonObject setup, string name)
    {
        var session = (JsonObject)setup.DeepClone();
        session["systemInstruction"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = $"You tell short stories ({name})." }) };
        return session;
    }
}
