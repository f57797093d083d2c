using Castor.Application.Errors;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.Hosting;

/// <summary>A model request's deadline (see <see cref="ModelRequestLimitsMiddleware"/>).</summary>
public sealed class RequestDeadline(TimeSpan timeout, CancellationToken client, CancellationToken deadline)
{
    /// <summary>The client's own abort token: what writes after the deadline must use, since the request's token has fired.</summary>
    public CancellationToken Client { get; } = client;

    /// <summary>True once the deadline fired while the client was still connected.</summary>
    public bool Expired => deadline.IsCancellationRequested && !Client.IsCancellationRequested;

    public CastorException Error => new(ErrorStatus.DeadlineExceeded,
        $"The request did not finish within the server's time limit of {Describe(timeout)} (Limits:RequestTimeout) and was cancelled.");

    /// <summary>
    /// For a streaming handler: the error to send in-band when <paramref name="exception"/> is the deadline firing
    /// (or already an API error), else null; and the token to write it with.
    /// </summary>
    public static (CastorException? Error, CancellationToken WriteToken) InBand(HttpContext context, Exception exception)
    {
        var deadline = context.Features.Get<RequestDeadline>();
        var token = deadline?.Client ?? context.RequestAborted;
        return exception switch
        {
            CastorException api => (api, token),
            OperationCanceledException when deadline is { Expired: true } => (deadline.Error, token),
            _ => (null, token),
        };
    }

    private static string Describe(TimeSpan t) =>
        t.TotalMinutes >= 1 && t.Seconds == 0 && t.Milliseconds == 0 ? $"{t.TotalMinutes:0} min" :
        t.TotalSeconds >= 1 && t.Milliseconds == 0 ? $"{t.TotalSeconds:0} s" : $"{t.TotalMilliseconds:0} ms";
}
