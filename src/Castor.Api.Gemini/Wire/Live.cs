using System.Text.Json;
using System.Text.Json.Serialization;

namespace Castor.Api.Gemini.Wire;

// The Live API's BidiGenerateContent messages (one JSON object per WebSocket message). A client message sets exactly one
// of its fields; a server message may set several (turnComplete travels with usageMetadata).

/// <summary>BidiGenerateContentClientMessage.</summary>
internal sealed class LiveClientMessage
{
    public LiveSetup? Setup { get; set; }
    public LiveClientContent? ClientContent { get; set; }
    public LiveRealtimeInput? RealtimeInput { get; set; }
    public LiveToolResponse? ToolResponse { get; set; }

    /// <summary>Any other message kind, under the name the client sent it, so it is refused by name.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>BidiGenerateContentSetup.</summary>
internal sealed class LiveSetup
{
    public string? Model { get; set; }
    public GenerationConfig? GenerationConfig { get; set; }
    public Content? SystemInstruction { get; set; }
    public List<Tool?>? Tools { get; set; }

    /// <summary>Not in the Live API's setup; accepted as generateContent takes it, so a raw client can force (ANY) or forbid (NONE) calls.</summary>
    public ToolConfig? ToolConfig { get; set; }
    public LiveSessionResumptionConfig? SessionResumption { get; set; }
    public LiveContextWindowCompression? ContextWindowCompression { get; set; }
    public JsonElement? RealtimeInputConfig { get; set; }
    public JsonElement? InputAudioTranscription { get; set; }
    public JsonElement? OutputAudioTranscription { get; set; }
}

internal sealed class LiveSessionResumptionConfig
{
    public string? Handle { get; set; }
    public bool? Transparent { get; set; }
}

internal sealed class LiveContextWindowCompression
{
    public long? TriggerTokens { get; set; }
    public LiveSlidingWindow? SlidingWindow { get; set; }
}

internal sealed class LiveSlidingWindow
{
    public long? TargetTokens { get; set; }
}

/// <summary>BidiGenerateContentClientContent: turns appended to the conversation; <c>turnComplete</c> (default true here, as the SDK sends it) starts the model.</summary>
internal sealed class LiveClientContent
{
    public List<Content>? Turns { get; set; }
    public bool? TurnComplete { get; set; }
}

/// <summary>BidiGenerateContentRealtimeInput.</summary>
internal sealed class LiveRealtimeInput
{
    public string? Text { get; set; }
    public Blob? Audio { get; set; }
    public Blob? Video { get; set; }
    public List<Blob>? MediaChunks { get; set; }
    public bool? AudioStreamEnd { get; set; }
    public JsonElement? ActivityStart { get; set; }
    public JsonElement? ActivityEnd { get; set; }
}

/// <summary>BidiGenerateContentToolResponse.</summary>
internal sealed class LiveToolResponse
{
    public List<FunctionResponse?>? FunctionResponses { get; set; }
}

/// <summary>BidiGenerateContentServerMessage.</summary>
internal sealed class LiveServerMessage
{
    public EmptyResponse? SetupComplete { get; set; }
    public LiveServerContent? ServerContent { get; set; }
    public LiveToolCall? ToolCall { get; set; }
    public LiveToolCallCancellation? ToolCallCancellation { get; set; }
    public LiveUsageMetadata? UsageMetadata { get; set; }
    public LiveGoAway? GoAway { get; set; }
    public LiveSessionResumptionUpdate? SessionResumptionUpdate { get; set; }
}

internal sealed class LiveServerContent
{
    public Content? ModelTurn { get; set; }
    public bool? GenerationComplete { get; set; }
    public bool? TurnComplete { get; set; }
    public bool? Interrupted { get; set; }
}

internal sealed class LiveToolCall
{
    public List<FunctionCall>? FunctionCalls { get; set; }
}

internal sealed class LiveToolCallCancellation
{
    public List<string>? Ids { get; set; }
}

/// <summary>The Live API's usage: <c>responseTokenCount</c> where generateContent says candidatesTokenCount.</summary>
internal sealed class LiveUsageMetadata
{
    public int? PromptTokenCount { get; set; }
    public int? CachedContentTokenCount { get; set; }
    public int? ResponseTokenCount { get; set; }
    public int? ThoughtsTokenCount { get; set; }
    public int? TotalTokenCount { get; set; }
}

internal sealed class LiveGoAway
{
    /// <summary>A protobuf Duration, e.g. <c>"10s"</c>.</summary>
    public string? TimeLeft { get; set; }
}

internal sealed class LiveSessionResumptionUpdate
{
    public string? NewHandle { get; set; }
    public bool? Resumable { get; set; }
}
