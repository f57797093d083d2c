using Microsoft.AspNetCore.Http;

namespace Castor.Api.Hosting;

/// <summary>
/// Server-sent events as every Gemini and OpenAI client parses them: <c>data: </c>, one line of JSON, a blank line; no
/// <c>event:</c>, <c>id:</c> or comment lines. Each wire keeps its own line ending (Google's servers send CRLF CRLF,
/// OpenAI's LF LF).
/// </summary>
public static class ServerSentEvents
{
    public const string ContentType = "text/event-stream";

    /// <summary>Google's event terminator.</summary>
    public static readonly ReadOnlyMemory<byte> CrLfCrLf = "\r\n\r\n"u8.ToArray();

    /// <summary>OpenAI's event terminator.</summary>
    public static readonly ReadOnlyMemory<byte> LfLf = "\n\n"u8.ToArray();

    /// <summary>
    /// Sets the stream's headers (no caching, no proxy buffering) and sends the status line and headers now: Kestrel's
    /// StartAsync only buffers them until the first body write, and a long prompt's prefill (minutes on a CPU) would
    /// leave clients with header timeouts, then retrying the same prompt. From here on errors go out in-band.
    /// </summary>
    public static async Task StartAsync(HttpResponse response, string contentType, CancellationToken cancellationToken)
    {
        response.ContentType = contentType;
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
