using System.Buffers;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Castor.Api.Gemini.Apis;
using Castor.Api.Gemini.Wire;
using Castor.Application.Errors;
using Castor.Application.Keys;
using Microsoft.Extensions.Logging;
using App = Castor.Application.Generation;

namespace Castor.Api.Gemini.Live;

/// <summary>
/// One BidiGenerateContent session: <c>setup</c>, then turns. Each turn sends the whole conversation through the same
/// <see cref="App.IGenerationService"/> as generateContent (tools, grammar-backed function calling, thinking), so the
/// engine's prefix cache (partitioned by project) keeps the earlier turns resident and only the new turn is computed.
/// The receive loop owns the conversation; a turn runs beside it so new input can interrupt it. Input passes through an
/// <see cref="ILiveInputStage"/> and output through an <see cref="ILiveOutputStage"/>, where speech will plug in.
/// A session opened with an ephemeral token gets the token's <see cref="LiveSetupLock"/>.
/// </summary>
internal sealed class LiveSession(WebSocket socket, Caller caller, App.IGenerationService generation, LiveOptions options, ILogger logger,
    LiveSetupLock? setupLock = null, DateTimeOffset? tokenExpireTime = null) : IDisposable
{
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly ArrayBufferWriter<byte> _message = new(16 * 1024);
    private readonly List<App.Content> _conversation = [];
    private readonly ILiveInputStage _input = TextInputStage.Instance;
    private readonly ILiveOutputStage _output = TextOutputStage.Instance;
    private App.GenerationRequest _template = null!;
    private RunningTurn? _turn;
    /// <summary>Ids of the function calls the client has not answered yet.</summary>
    private List<string> _pendingCalls = [];
    private bool _closed;
    private CancellationTokenSource _session = null!;

    /// <summary>
    /// Runs the session until either side closes it; every close the server sends has a code and a reason. When the
    /// server stops (<paramref name="stopping"/>), the client gets <c>goAway</c> and a 1001 close rather than a cut connection.
    /// </summary>
    public async Task RunAsync(CancellationToken aborted, CancellationToken stopping)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        _session = session;
        var token = session.Token;
        await using var drain = stopping.Register(() => _ = GoAwayAsync(TimeSpan.Zero, WebSocketCloseStatus.EndpointUnavailable,
            "The server is shutting down; open a new session."));
        // The session's length limit: goAway with the time left, then a close that says why. A session opened with an
        // ephemeral token also ends at the token's expireTime, whichever comes first.
        var duration = options.MaxSessionDuration > TimeSpan.Zero ? options.MaxSessionDuration : Timeout.InfiniteTimeSpan;
        var reason = "The session reached its length limit (Live:MaxSessionDuration); open a new session.";
        if (tokenExpireTime is { } expiry && (duration == Timeout.InfiniteTimeSpan || expiry - DateTimeOffset.UtcNow < duration))
        {
            duration = TimeSpan.FromTicks(Math.Max(1, (expiry - DateTimeOffset.UtcNow).Ticks));
            reason = "The ephemeral token expired (expireTime); create a new token to open a new session.";
        }
        var notice = duration == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(10).Ticks, duration.Ticks / 2));
        await using var limit = new Timer(_ => _ = GoAwayAsync(notice, WebSocketCloseStatus.NormalClosure, reason), null,
            duration == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : duration - notice, Timeout.InfiniteTimeSpan);
        try
        {
            if (await ReceiveAsync(token).ConfigureAwait(false) is not { } first) return;
            if (first.Setup is not { } setup)
                throw new LiveCloseException(LiveCloseException.InvalidPayload, "The first message of a session must be setup.");
            // An ephemeral token's locked fields win over what the client sent.
            await SetupAsync(setupLock?.Apply(setup) ?? setup, token).ConfigureAwait(false);
            await SendAsync(new LiveServerMessage { SetupComplete = new EmptyResponse() }).ConfigureAwait(false);
            while (await ReceiveAsync(token).ConfigureAwait(false) is { } message)
                await HandleAsync(message, token).ConfigureAwait(false);
            await StopTurnAsync(announce: false).ConfigureAwait(false);
            // The client closed: complete the close handshake.
            await CloseAsync(WebSocketCloseStatus.NormalClosure, "").ConfigureAwait(false);
        }
        catch (LiveCloseException close)
        {
            await EndAsync(close).ConfigureAwait(false);
        }
        catch (CastorException error)
        {
            await EndAsync(LiveCloseException.From(error)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException || token.IsCancellationRequested)
        {
            // The connection is gone (or a failed turn already closed it): nothing left to tell the client.
            await StopTurnAsync(announce: false).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Live session failed");
            await EndAsync(new LiveCloseException(WebSocketCloseStatus.InternalServerError, "Internal error encountered.")).ConfigureAwait(false);
        }
    }

    private async Task EndAsync(LiveCloseException close)
    {
        await StopTurnAsync(announce: false).ConfigureAwait(false);
        await CloseAsync(close.Code, close.Reason).ConfigureAwait(false);
    }

    /// <summary>Validates the setup the way generateContent validates a request, naming fields under <c>setup.</c>.</summary>
    private async Task SetupAsync(LiveSetup setup, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(setup.Model))
            throw new LiveCloseException(LiveCloseException.InvalidPayload, "setup.model is required, e.g. \"models/gemini-2.5-flash\".");
        foreach (var modality in setup.GenerationConfig?.ResponseModalities ?? [])
        {
            if (string.Equals(modality, "AUDIO", StringComparison.OrdinalIgnoreCase))
                throw new LiveCloseException(LiveCloseException.InvalidPayload,
                    "setup.generationConfig.responseModalities: AUDIO output is not available yet (no speech engine); use TEXT.");
            if (!string.Equals(modality, "TEXT", StringComparison.OrdinalIgnoreCase))
                throw new LiveCloseException(LiveCloseException.InvalidPayload,
                    $"setup.generationConfig.responseModalities: '{Printable(modality)}' is not a response modality; use TEXT.");
        }
        if (!string.IsNullOrEmpty(setup.SessionResumption?.Handle))
            throw new LiveCloseException(LiveCloseException.InvalidPayload,
                "setup.sessionResumption.handle: resuming a session is not available on this server yet; open a new session.");
        if (setup.ContextWindowCompression is { TriggerTokens: < 0 })
            throw new LiveCloseException(LiveCloseException.InvalidPayload, "setup.contextWindowCompression.triggerTokens must not be negative.");

        try
        {
            var request = GeminiMapping.ToGenerationRequest(setup.Model, new GenerateContentRequest
            {
                SystemInstruction = setup.SystemInstruction,
                GenerationConfig = setup.GenerationConfig,
                Tools = setup.Tools,
                ToolConfig = setup.ToolConfig,
            });
            // speechConfig only shapes audio output (the SDK sends a voice even for TEXT sessions); the modality was checked above.
            _template = request with { Config = request.Config with { HasSpeechConfig = false, ResponseModalities = null } };
            // Resolves the model and compiles the tools now, so a bad setup is refused before setupComplete.
            await generation.CountTokensAsync(caller, _template, cancellationToken).ConfigureAwait(false);
        }
        catch (CastorException error)
        {
            throw error.WithFieldNames(f => "setup." + f);
        }
    }

    private async Task HandleAsync(LiveClientMessage message, CancellationToken cancellationToken)
    {
        if (message.Setup is not null)
            throw new LiveCloseException(LiveCloseException.InvalidPayload, "setup: the session is already set up; setup is only the first message.");
        if (message.ClientContent is { } content)
        {
            var turns = GeminiMapping.ToContents(content.Turns, "clientContent.turns");
            await InterruptAsync().ConfigureAwait(false);
            _conversation.AddRange(turns);
            if (content.TurnComplete == true) StartTurn(cancellationToken);
        }
        else if (message.RealtimeInput is { } input)
        {
            var turn = _input.Accept(input);
            // The user started speaking (or typing): whatever the model is saying is interrupted.
            if (turn is null && input.ActivityStart is null) return;
            await InterruptAsync().ConfigureAwait(false);
            if (turn is null) return;
            _conversation.Add(turn);
            StartTurn(cancellationToken);
        }
        else if (message.ToolResponse is { } response)
        {
            var parts = ToFunctionResponses(response);
            await StopTurnAsync(announce: true).ConfigureAwait(false);
            _conversation.Add(new App.Content(App.Content.UserRole, parts));
            var answered = parts.Select(p => p.Id).ToHashSet();
            _pendingCalls = _pendingCalls.Where(id => !answered.Contains(id)).ToList();
            // The model continues once every call it made is answered.
            if (_pendingCalls.Count == 0) StartTurn(cancellationToken);
        }
        else
        {
            var name = message.Unknown?.Keys.FirstOrDefault();
            throw new LiveCloseException(LiveCloseException.InvalidPayload, name is null
                ? "The message is empty; send setup, clientContent, realtimeInput or toolResponse."
                : $"Unknown message '{Printable(name)}'; send setup, clientContent, realtimeInput or toolResponse.");
        }
    }

    private static List<App.FunctionResponsePart> ToFunctionResponses(LiveToolResponse response)
    {
        if (response.FunctionResponses is not { Count: > 0 } responses)
            throw new LiveCloseException(LiveCloseException.InvalidPayload, "toolResponse.functionResponses must hold at least one response.");
        var parts = new List<App.FunctionResponsePart>(responses.Count);
        for (var i = 0; i < responses.Count; i++)
        {
            if (responses[i] is not { } r || string.IsNullOrEmpty(r.Name))
                throw new LiveCloseException(LiveCloseException.InvalidPayload, $"toolResponse.functionResponses[{i}].name is required.");
            parts.Add(new App.FunctionResponsePart(r.Name, r.Response, r.Id));
        }
        return parts;
    }

    /// <summary>New client input: the running turn stops (<c>interrupted</c>), and calls still unanswered are void (<c>toolCallCancellation</c>).</summary>
    private async Task InterruptAsync()
    {
        await StopTurnAsync(announce: true).ConfigureAwait(false);
        if (_pendingCalls.Count == 0) return;
        var voided = _pendingCalls.ToHashSet();
        _pendingCalls = [];
        // The conversation keeps what the model said, not calls nobody answered (a template would expect their responses).
        for (var i = _conversation.Count - 1; i >= 0; i--)
        {
            var c = _conversation[i];
            if (!c.Parts.Any(p => p is App.FunctionCallPart call && voided.Contains(call.Id ?? ""))) continue;
            var kept = c.Parts.Where(p => p is not App.FunctionCallPart call || !voided.Contains(call.Id ?? "")).ToList();
            if (kept.Count == 0) _conversation.RemoveAt(i);
            else _conversation[i] = c with { Parts = kept };
            break;
        }
        await SendAsync(new LiveServerMessage { ToolCallCancellation = new LiveToolCallCancellation { Ids = [.. voided] } }).ConfigureAwait(false);
    }

    private void StartTurn(CancellationToken sessionToken)
    {
        var turn = new RunningTurn(CancellationTokenSource.CreateLinkedTokenSource(sessionToken));
        var request = _template with { Contents = _conversation.ToArray() };
        _turn = turn;
        turn.Task = Task.Run(() => RunTurnAsync(turn, request), CancellationToken.None);
    }

    /// <summary>Stops the running turn (if any) and waits for it; with <paramref name="announce"/>, a stopped turn is reported as <c>interrupted</c>.</summary>
    private async Task StopTurnAsync(bool announce)
    {
        if (_turn is not { } turn) return;
        _turn = null;
        await turn.Cancellation.CancelAsync().ConfigureAwait(false);
        await turn.Task.ConfigureAwait(false);
        turn.Cancellation.Dispose();
        if (announce && turn.Interrupted)
            await SendAsync(new LiveServerMessage { ServerContent = new LiveServerContent { Interrupted = true } }).ConfigureAwait(false);
    }

    private async Task RunTurnAsync(RunningTurn turn, App.GenerationRequest request)
    {
        var cancellation = turn.Cancellation.Token;
        var text = new StringBuilder();
        var calls = new List<App.FunctionCallPart>();
        var usage = new App.Usage(0, 0);
        try
        {
            var stream = await generation.StartAsync(caller, request, cancellation).ConfigureAwait(false);
            await foreach (var update in stream.ReadAllAsync(cancellation).ConfigureAwait(false))
            {
                usage = update.Usage;
                if (_output.Render(update) is { } modelTurn)
                    await SendAsync(new LiveServerMessage { ServerContent = new LiveServerContent { ModelTurn = modelTurn } }).ConfigureAwait(false);
                text.Append(update.Text);
                foreach (var call in update.FunctionCalls)
                    calls.Add(call with { Id = call.Id ?? NewCallId() });
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            turn.Interrupted = true;
            // What the model said before it was cut off stays in the conversation, as the user heard it.
            if (text.Length > 0) _conversation.Add(new App.Content(App.Content.ModelRole, [new App.TextPart(text.ToString())]));
            return;
        }
        catch (Exception ex) when (ex is CastorException or WebSocketException)
        {
            await FailAsync(ex is CastorException error ? LiveCloseException.From(error) : null).ConfigureAwait(false);
            return;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Live turn failed");
            await FailAsync(new LiveCloseException(WebSocketCloseStatus.InternalServerError, "Internal error encountered.")).ConfigureAwait(false);
            return;
        }

        try
        {
            var answer = new List<App.Part>(calls.Count + 1);
            if (text.Length > 0) answer.Add(new App.TextPart(text.ToString()));
            answer.AddRange(calls);
            if (answer.Count > 0) _conversation.Add(new App.Content(App.Content.ModelRole, answer));
            if (calls.Count > 0)
            {
                _pendingCalls = calls.Select(c => c.Id!).ToList();
                await SendAsync(new LiveServerMessage
                {
                    ToolCall = new LiveToolCall { FunctionCalls = calls.Select(c => new FunctionCall { Id = c.Id, Name = c.Name, Args = c.Args }).ToList() },
                }).ConfigureAwait(false);
            }
            else
            {
                await SendAsync(new LiveServerMessage { ServerContent = new LiveServerContent { GenerationComplete = true } }).ConfigureAwait(false);
            }
            await SendAsync(new LiveServerMessage
            {
                ServerContent = new LiveServerContent { TurnComplete = true },
                UsageMetadata = ToUsage(usage),
            }).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            await FailAsync(null).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The session must end (the server stops, or the session reached its length limit): goAway with the time left, then
    /// the close; the receive loop ends when the client answers it (or after a grace period). A pending receive is never
    /// cancelled first, since that would abort the socket unannounced.
    /// </summary>
    private async Task GoAwayAsync(TimeSpan timeLeft, WebSocketCloseStatus code, string reason)
    {
        try
        {
            await SendAsync(new LiveServerMessage { GoAway = new LiveGoAway { TimeLeft = $"{(long)timeLeft.TotalSeconds}s" } }).ConfigureAwait(false);
            await Task.Delay(timeLeft).ConfigureAwait(false);
            await CloseAsync(code, reason).ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            await _session.CancelAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException)
        {
            // The session ended meanwhile.
        }
    }

    /// <summary>A turn failed: the session closes (with the error, if the connection still stands) and the receive loop ends.</summary>
    private async Task FailAsync(LiveCloseException? close)
    {
        if (close is not null) await CloseAsync(close.Code, close.Reason).ConfigureAwait(false);
        await _session.CancelAsync().ConfigureAwait(false);
    }

    internal static LiveUsageMetadata ToUsage(App.Usage usage) => new()
    {
        PromptTokenCount = usage.PromptTokenCount,
        CachedContentTokenCount = usage.CachedContentTokenCount > 0 ? usage.CachedContentTokenCount : null,
        ResponseTokenCount = usage.CandidatesTokenCount,
        ThoughtsTokenCount = usage.ThoughtsTokenCount > 0 ? usage.ThoughtsTokenCount : null,
        TotalTokenCount = usage.TotalTokenCount,
    };

    /// <summary>The next client message, text or binary; null when the client closed.</summary>
    private async Task<LiveClientMessage?> ReceiveAsync(CancellationToken cancellationToken)
    {
        _message.ResetWrittenCount();
        while (true)
        {
            var result = await socket.ReceiveAsync(_message.GetMemory(16 * 1024), cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            _message.Advance(result.Count);
            if (_message.WrittenCount > options.MaxMessageBytes)
                throw new LiveCloseException(LiveCloseException.MessageTooBig, $"The message is larger than the {options.MaxMessageBytes} bytes this server accepts.");
            if (result.EndOfMessage) break;
        }
        return Parse(_message.WrittenSpan);
    }

    internal static LiveClientMessage Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, GeminiJson.TypeInfo<LiveClientMessage>())
                   ?? throw new LiveCloseException(LiveCloseException.InvalidPayload, "Invalid JSON payload received: a message must be a JSON object, not null.");
        }
        catch (JsonException ex)
        {
            var at = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "" : $" at {ex.Path}";
            throw new LiveCloseException(LiveCloseException.InvalidPayload, $"Invalid JSON payload received{at}: {FirstSentence(ex.Message)}");
        }
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }

    private async Task SendAsync(LiveServerMessage message)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message, GeminiJson.TypeInfo<LiveServerMessage>());
        await _sending.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_closed) return;
            // Never cancelled by an interruption: a send cancelled half-way aborts the whole WebSocket.
            await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _sending.Release();
        }
    }

    private async Task CloseAsync(WebSocketCloseStatus code, string reason)
    {
        await _sending.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_closed || socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
            _closed = true;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await socket.CloseOutputAsync(code, LiveCloseException.Fit(reason), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The client went away first.
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Closes a socket that never became a session (no room, a refused key).</summary>
    internal static async Task RefuseAsync(WebSocket socket, LiveCloseException close)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await socket.CloseOutputAsync(close.Code, close.Reason, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
    }

    /// <summary>Keeps client-chosen names printable and short inside a close reason.</summary>
    private static string Printable(string value)
    {
        var clean = new string(value.Where(c => !char.IsControl(c)).Take(40).ToArray());
        return clean.Length < value.Length ? clean + "…" : clean;
    }

    private static string NewCallId() => "call_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public void Dispose() => _sending.Dispose();

    private sealed class RunningTurn(CancellationTokenSource cancellation)
    {
        public CancellationTokenSource Cancellation { get; } = cancellation;
        public Task Task { get; set; } = Task.CompletedTask;
        public bool Interrupted { get; set; }
    }
}
