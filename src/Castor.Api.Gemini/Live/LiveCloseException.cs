using System.Net.WebSockets;
using System.Text;
using Castor.Application.Errors;

namespace Castor.Api.Gemini.Live;

/// <summary>Ends a Live session with a WebSocket close code and a reason the client's <c>onclose</c> shows.</summary>
internal sealed class LiveCloseException(WebSocketCloseStatus code, string reason) : Exception(reason)
{
    /// <summary>1007: the message is not valid JSON or not a valid request (the Live API's answer to INVALID_ARGUMENT).</summary>
    public const WebSocketCloseStatus InvalidPayload = WebSocketCloseStatus.InvalidPayloadData;

    /// <summary>1008: the key, the token or the model is refused.</summary>
    public const WebSocketCloseStatus PolicyViolation = WebSocketCloseStatus.PolicyViolation;

    /// <summary>1009: a message over <c>Live:MaxMessageBytes</c>.</summary>
    public const WebSocketCloseStatus MessageTooBig = WebSocketCloseStatus.MessageTooBig;

    /// <summary>1013 (try again later): no room for another session.</summary>
    public const WebSocketCloseStatus TryAgainLater = (WebSocketCloseStatus)1013;

    public WebSocketCloseStatus Code { get; } = code;

    /// <summary>The close frame's reason, cut to the 123 bytes a close frame can carry (at a character boundary).</summary>
    public string Reason { get; } = Fit(reason);

    /// <summary>
    /// The API error as a close: an invalid argument is 1007; a refused key, a missing model or permission 1008; a rate
    /// limit 1011 with the quota message, as the Live API closes a session over its quota; overload 1013; anything else 1011.
    /// </summary>
    public static LiveCloseException From(CastorException error) => new(error.Status switch
    {
        ErrorStatus.InvalidArgument or ErrorStatus.FailedPrecondition or ErrorStatus.Unimplemented => InvalidPayload,
        ErrorStatus.PermissionDenied or ErrorStatus.Unauthenticated or ErrorStatus.NotFound => PolicyViolation,
        ErrorStatus.ResourceExhausted when error.Details.OfType<QuotaViolation>().Any() => WebSocketCloseStatus.InternalServerError,
        ErrorStatus.ResourceExhausted or ErrorStatus.Unavailable => TryAgainLater,
        _ => WebSocketCloseStatus.InternalServerError,
    }, error.Message);

    internal static string Fit(string reason)
    {
        const int max = 123;
        if (Encoding.UTF8.GetByteCount(reason) <= max) return reason;
        var cut = reason.Length;
        while (cut > 0 && Encoding.UTF8.GetByteCount(reason.AsSpan(0, cut)) > max - 3) cut--;
        if (cut > 0 && char.IsHighSurrogate(reason[cut - 1])) cut--;
        return reason[..cut] + "...";
    }
}
