using Castor.Api.Gemini.Wire;
using App = Castor.Application.Generation;

namespace Castor.Api.Gemini.Live;

/// <summary>Realtime text input: each <c>realtimeInput.text</c> is one user turn. Audio and video are refused until a speech engine lands.</summary>
internal sealed class TextInputStage : ILiveInputStage
{
    public static readonly TextInputStage Instance = new();

    public App.Content? Accept(LiveRealtimeInput input)
    {
        if (input.Audio is not null) throw Unavailable("realtimeInput.audio", "audio input");
        if (input.Video is not null) throw Unavailable("realtimeInput.video", "video input");
        if (input.MediaChunks is { Count: > 0 }) throw Unavailable("realtimeInput.mediaChunks", "audio and video input");
        // activityStart, activityEnd and audioStreamEnd frame speech; with text every message is already a whole turn.
        return input.Text is { } text ? new App.Content(App.Content.UserRole, [new App.TextPart(text)]) : null;
    }

    private static LiveCloseException Unavailable(string field, string what) =>
        new(LiveCloseException.InvalidPayload, $"{field}: {what} is not available on this server yet; send text.");
}
