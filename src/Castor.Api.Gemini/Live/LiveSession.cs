using System.Buffers;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Castor.Api.Gemini.Apis;
using Castor.Api.Gemini.Wire;
using Castor.Application.Errors;
using Castor.Application.Keys;
using Castor.Application.Live;
using Castor.Application.Quotas;
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
/// With <c>sessionResumption</c>, each turn boundary saves the conversation and hands out a new handle; with
/// <c>contextWindowCompression.slidingWindow</c>, the oldest turns are dropped when the prompt reaches the trigger.
/// </summary>
internal sealed class LiveSession(WebSocket socket, Caller caller, LiveSessionServices services,
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
    /// <summary>Set when the setup asked for <c>sessionResumption</c>: the row the session is saved under.</summary>
    private string? _resumableId;
    /// <summary>The setup as saved for resumption (without the handle it was resumed with).</summary>
    private string _savedSetup = "";
    private LiveContextWindowCompression? _compression;
    /// <summary>The session's place in its project's concurrent-sessions limit, released when the session ends however it ends.</summary>
    private LiveSessionSlot? _slot;

    /// <summary>
    /// Runs the session until either side closes it; every close the server sends has a code and a reason. When the
    /// server stops (<paramref name="stopping"/>), the client gets <c>goAway</c> and a 1001 close rather than a cut connection.
    /// </summary>
    public async Task RunAsync(CancellationToken aborted, CancellationToken stopping)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        _session = session;
        var token = session.Token;
        await using var drain = stopping.Register(() => _ = DrainAsync());
        // The session's length limit: goAway with the time left, then a close that says why. A session opened with an
        // ephemeral token also ends at the token's expireTime, whichever comes first.
        var duration = services.Options.MaxSessionDuration > TimeSpan.Zero ? services.Options.MaxSessionDuration : Timeout.InfiniteTimeSpan;
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
            services.Logger.LogError(ex, "Live session failed");
            await EndAsync(new LiveCloseException(WebSocketCloseStatus.InternalServerError, "Internal error encountered.")).ConfigureAwait(false);
        }
        finally
        {
            if (_slot is not null) await _slot.DisposeAsync().ConfigureAwait(false);
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
        List<App.Content>? resumed = null;
        if (!string.IsNullOrEmpty(setup.SessionResumption?.Handle))
        {
            // An unknown, replaced, expired or other project's handle closes with 1008 and says which.
            var session = await services.Resumptions.ResumeAsync(caller, setup.SessionResumption.Handle, cancellationToken).ConfigureAwait(false);
            var saved = JsonSerializer.Deserialize(session.Setup, GeminiJson.TypeInfo<LiveSetup>()) ?? new LiveSetup();
            // The conversation was computed by that model; every other field may change, as on a new connection to the API.
            if (!string.IsNullOrWhiteSpace(setup.Model) && ModelId(setup.Model) != ModelId(session.Model))
                throw new LiveCloseException(LiveCloseException.InvalidPayload,
                    $"setup.model: a resumed session keeps its model ('{Printable(session.Model)}'); send that model or none.");
            setup = Resumed(saved, setup);
            _resumableId = session.Id;
            resumed = LiveConversation.Deserialize(session.Conversation);
        }
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
        if (setup.ContextWindowCompression is { TriggerTokens: < 0 })
            throw new LiveCloseException(LiveCloseException.InvalidPayload, "setup.contextWindowCompression.triggerTokens must not be negative.");
        if (setup.ContextWindowCompression?.SlidingWindow is { TargetTokens: < 0 })
            throw new LiveCloseException(LiveCloseException.InvalidPayload, "setup.contextWindowCompression.slidingWindow.targetTokens must not be negative.");
        // triggerTokens alone names no way to compress: only the sliding window is one.
        _compression = setup.ContextWindowCompression?.SlidingWindow is null ? null : setup.ContextWindowCompression;

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
            await services.Generation.CountTokensAsync(caller, _template, cancellationToken).ConfigureAwait(false);
        }
        catch (CastorException error)
        {
            throw error.WithFieldNames(f => "setup." + f);
        }
        // The session is the Live API's request: its project's sessions limit (and RPM/RPD, where set) admit it or close it
        // with the quota error before setupComplete.
        if (services.Quota is { } quota)
            _slot = await quota.StartSessionAsync(caller, services.Catalogue.ResolveGenerative(setup.Model).Description.Id,
                ModelId(setup.Model), cancellationToken).ConfigureAwait(false);
        if (resumed is not null) _conversation.AddRange(resumed);
        if (setup.SessionResumption is not null)
        {
            _resumableId ??= LiveResumptionService.NewSessionId();
            _savedSetup = JsonSerializer.Serialize(Resumed(setup, new LiveSetup { SessionResumption = new LiveSessionResumptionConfig() }),
                GeminiJson.TypeInfo<LiveSetup>());
        }
    }

    /// <summary>The setup of a resumed session: each field the new connection sets replaces the saved one.</summary>
    private static LiveSetup Resumed(LiveSetup saved, LiveSetup next) => new()
    {
        Model = next.Model ?? saved.Model,
        GenerationConfig = next.GenerationConfig ?? saved.GenerationConfig,
        SystemInstruction = next.SystemInstruction ?? saved.SystemInstruction,
        Tools = next.Tools ?? saved.Tools,
        ToolConfig = next.ToolConfig ?? saved.ToolConfig,
        SessionResumption = next.SessionResumption ?? saved.SessionResumption,
        ContextWindowCompression = next.ContextWindowCompression ?? saved.ContextWindowCompression,
        RealtimeInputConfig = next.RealtimeInputConfig ?? saved.RealtimeInputConfig,
        InputAudioTranscription = next.InputAudioTranscription ?? saved.InputAudioTranscription,
        OutputAudioTranscription = next.OutputAudioTranscription ?? saved.OutputAudioTranscription,
    };

    private static string ModelId(string model) => model.StartsWith("models/", StringComparison.Ordinal) ? model[7..] : model;

    private async Task HandleAsync(LiveClientMessage message, CancellationToken cancellationToken)
    {
        // The server closed the session (a failed turn, goAway): what the client sent before it saw the close is dropped.
        if (_closed) return;
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
            request = await CompressAsync(request, cancellation).ConfigureAwait(false);
            var stream = await services.Generation.StartAsync(caller, request, cancellation).ConfigureAwait(false);
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
            services.Logger.LogError(ex, "Live turn failed");
            await FailAsync(new LiveCloseException(WebSocketCloseStatus.InternalServerError, "Internal error encountered.")).ConfigureAwait(false);
            return;
        }

        try
        {
            var answer = new List<App.Part>(calls.Count + 1);
            if (text.Length > 0) answer.Add(new App.TextPart(text.ToString()));
            answer.AddRange(calls);
            if (answer.Count > 0) _conversation.Add(new App.Content(App.Content.ModelRole, answer));
            // Taken now, before turnComplete lets the client send more: the state this turn boundary stands for.
            var resumable = _resumableId is not null && calls.Count == 0 ? LiveConversation.Serialize(_conversation) : null;
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
            // A boundary with calls pending is not resumable (their answers would be lost), as the API says with resumable: false.
            if (resumable is not null) await SaveAsync(resumable).ConfigureAwait(false);
            else if (_resumableId is not null)
                await SendAsync(new LiveServerMessage { SessionResumptionUpdate = new LiveSessionResumptionUpdate { Resumable = false } }).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            await FailAsync(null).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Saves the session at a turn boundary and hands the client the new handle. This is the only write a session makes,
    /// once per turn, never while tokens stream. A failed write keeps the session going, but not resumable from here.
    /// </summary>
    private async Task SaveAsync(string conversation)
    {
        string handle;
        try
        {
            handle = await services.Resumptions.SaveAsync(caller, new ResumableLiveSession(_resumableId!, _template.Model, _savedSetup, conversation),
                services.Options.ResumptionHandleLifetime, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            services.Logger.LogWarning(ex, "A Live session could not be saved for resumption");
            await SendAsync(new LiveServerMessage { SessionResumptionUpdate = new LiveSessionResumptionUpdate { Resumable = false } }).ConfigureAwait(false);
            return;
        }
        await SendAsync(new LiveServerMessage { SessionResumptionUpdate = new LiveSessionResumptionUpdate { NewHandle = handle, Resumable = true } }).ConfigureAwait(false);
    }

    /// <summary>
    /// With a sliding window, a prompt at <c>triggerTokens</c> (default: 80% of the model's context, as the API) loses its
    /// oldest turns, whole exchanges from one user turn to the next, until it fits <c>slidingWindow.targetTokens</c>
    /// (default: half the trigger). The system instruction and tools are in the template and always stay. Without a
    /// sliding window a too-long prompt fails as generateContent does.
    /// </summary>
    private async Task<App.GenerationRequest> CompressAsync(App.GenerationRequest request, CancellationToken cancellationToken)
    {
        if (_compression is not { SlidingWindow: { } window }) return request;
        var limit = services.Catalogue.Describe(request.Model).InputTokenLimit;
        var trigger = (int)Math.Clamp(_compression.TriggerTokens is > 0 ? _compression.TriggerTokens.Value : limit * 4L / 5, 1, limit);
        var target = (int)Math.Clamp(window.TargetTokens is > 0 ? window.TargetTokens.Value : trigger / 2, 0, trigger);
        if (await services.Generation.CountTokensAsync(caller, request, cancellationToken).ConfigureAwait(false) < trigger) return request;

        var dropped = 0;
        for (var start = NextTurnStart(1); start > 0; start = NextTurnStart(start + 1))
        {
            dropped = start;
            var rest = request with { Contents = _conversation.Skip(start).ToArray() };
            if (await services.Generation.CountTokensAsync(caller, rest, cancellationToken).ConfigureAwait(false) <= target) break;
        }
        if (dropped == 0) return request;
        _conversation.RemoveRange(0, dropped);
        services.Logger.LogDebug("Live sliding window dropped {Count} contents", dropped);
        return request with { Contents = _conversation.ToArray() };
    }

    /// <summary>The index of the first user turn at or after <paramref name="from"/> (a tool's answer does not start a turn); -1 if none.</summary>
    private int NextTurnStart(int from)
    {
        for (var i = from; i < _conversation.Count; i++)
        {
            var c = _conversation[i];
            if (c.Role == App.Content.UserRole && !c.Parts.All(p => p is App.FunctionResponsePart)) return i;
        }
        return -1;
    }

    /// <summary>
    /// The host is stopping: <c>goAway</c> with the time it will wait for sessions, a running turn may finish (and be
    /// saved for resumption) within it, then 1001. A client with a resumption handle continues on another node or
    /// after the restart.
    /// </summary>
    private async Task DrainAsync()
    {
        try
        {
            var timeLeft = services.DrainTime > TimeSpan.Zero ? services.DrainTime : TimeSpan.Zero;
            await SendAsync(new LiveServerMessage { GoAway = new LiveGoAway { TimeLeft = $"{(long)timeLeft.TotalSeconds}s" } }).ConfigureAwait(false);
            // A second's margin, so the close frame goes out before the host cuts what is left.
            var wait = timeLeft - TimeSpan.FromSeconds(1);
            if (_turn is { } turn && wait > TimeSpan.Zero)
            {
                try
                {
                    await turn.Task.WaitAsync(wait).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
            }
            await CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "The server is shutting down; open a new session.").ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            await _session.CancelAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException)
        {
            // The session ended meanwhile.
        }
    }

    /// <summary>
    /// The session must end (it reached its length limit, or its ephemeral token expired): goAway with the time left, then
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
        if (close is null)
        {
            await _session.CancelAsync().ConfigureAwait(false);
            return;
        }
        await CloseAsync(close.Code, close.Reason).ConfigureAwait(false);
        // The client answers the close and the receive loop ends. Cancelling at once would abort the connection (a TCP
        // reset), which can discard the close frame before the client reads it: it would see 1006 instead of the reason.
        try
        {
            _session.CancelAfter(TimeSpan.FromSeconds(2));
        }
        catch (ObjectDisposedException)
        {
        }
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
            if (_message.WrittenCount > services.Options.MaxMessageBytes)
                throw new LiveCloseException(LiveCloseException.MessageTooBig, $"The message is larger than the {services.Options.MaxMessageBytes} bytes this server accepts.");
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
