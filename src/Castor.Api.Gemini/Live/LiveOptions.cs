namespace Castor.Api.Gemini.Live;

/// <summary>The <c>Live</c> section: limits of the Live API's WebSocket sessions.</summary>
public sealed class LiveOptions
{
    public const int DefaultMaxSessions = 64;
    public const int DefaultMaxMessageBytes = 4 * 1024 * 1024;

    /// <summary>Concurrent Live sessions server-wide; one more is closed with 1013 (try again later). Default 64.</summary>
    public int MaxSessions { get; set; } = DefaultMaxSessions;

    /// <summary>How long one session may last (the API's limit for text sessions is 15 minutes); <c>goAway</c> comes up to 10 s before the close. Zero or less: no limit.</summary>
    public TimeSpan MaxSessionDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The largest client message (after reassembling its frames); a larger one closes the session with 1009. Default 4 MiB.</summary>
    public int MaxMessageBytes { get; set; } = DefaultMaxMessageBytes;

    /// <summary>How long a session resumption handle works after the session's last update (the API's 2 hours).</summary>
    public TimeSpan ResumptionHandleLifetime { get; set; } = Castor.Application.Live.LiveResumptionService.DefaultHandleLifetime;
}
