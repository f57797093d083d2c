using System.Text.Json;
using Castor.Application.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Castor.Api.Hosting;

/// <summary>
/// Turns every failure of a request into an error body in the shape of the wire that owns the route (<see cref="ApiErrors"/>): the API's own errors as they are, client
/// mistakes the framework detects (oversized or malformed bodies) as 400, and anything unexpected as a 500
/// without internals. A request whose client went away is simply dropped.
/// <para>
/// It is also the one place that logs failures: every 4xx/5xx (and an error sent in-band after a stream started) gets
/// one line with the method, the path, the status and the error's message, at Information (5xx at Error), so a user
/// can see why a client failed. Never the query string (it may carry <c>key=</c>), headers or the body (prompts).
/// </para>
/// </summary>
public sealed class ApiErrorMiddleware(RequestDelegate next, ILogger<ApiErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        Exception? unexpected = null;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (context.RequestAborted.IsCancellationRequested && ex is OperationCanceledException or IOException)
        {
            // The client disconnected: its generation was cancelled, or its upload body ended early (and was kept).
            return;
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            var error = Translate(ex);
            if (error.Status == ErrorStatus.Internal) unexpected = ex;
            context.Response.Clear();
            await ApiErrors.WriteAsync(context, error).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Past the first byte there is no status to change; the connection is cut, and the cause must show.
            logger.LogError(ex, "{Method} {Path} failed after the response started", context.Request.Method, LoggedPath(context));
            throw;
        }
        LogFailure(context, unexpected);
    }

    private void LogFailure(HttpContext context, Exception? unexpected)
    {
        var error = context.Features.Get<ErrorResponseFeature>()?.Error;
        var status = context.Response.StatusCode;
        if (status < 400 && error is null) return;
        // An error sent in-band (status 200 already sent) is logged at the level its own status would have had.
        var effective = status >= 400 ? status : ErrorHttp.StatusCode(error!.Status);
        var level = effective >= 500 ? LogLevel.Error : LogLevel.Information;
        if (!logger.IsEnabled(level)) return;
        logger.Log(level, unexpected, "{Method} {Path} answered {StatusCode} {Status}: {Message}",
            context.Request.Method, LoggedPath(context), status, error is null ? "" : ErrorHttp.StatusName(error.Status), OneLine(error?.Message ?? ""));
    }

    /// <summary>The path without the query string: <c>?key=</c> would put the API key in the log.</summary>
    private static string LoggedPath(HttpContext context) => OneLine((context.Request.PathBase + context.Request.Path).ToString());

    // Messages may quote what the client sent (a model name, a field); a line break must not forge another log line.
    private static string OneLine(string text)
    {
        const int Max = 1000;
        var clean = string.Create(Math.Min(text.Length, Max), text, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = char.IsControl(source[i]) ? ' ' : source[i];
        });
        return text.Length > Max ? clean + "…" : clean;
    }

    public static CastorException Translate(Exception ex) => ex switch
    {
        CastorException api => api,
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
            CastorException.InvalidArgument($"Request payload size exceeds the limit: {RequestLimits.MaxBodyBytes} bytes."),
        BadHttpRequestException bad => CastorException.InvalidArgument("The request could not be read: " + bad.Message),
        JsonException json => RequestBody.InvalidJson(json),
        _ => new CastorException(ErrorStatus.Internal, "An internal error has occurred. Please retry or report it with the server's log."),
    };
}
