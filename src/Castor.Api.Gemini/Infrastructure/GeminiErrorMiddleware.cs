using System.Text.Json;
using Castor.Application.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Castor.Api.Gemini.Infrastructure;

/// <summary>
/// Turns every failure of a request into a Google RPC error body: the API's own errors as they are, client
/// mistakes the framework detects (oversized or malformed bodies) as 400, and anything unexpected as a 500
/// without internals. A request whose client went away is simply dropped.
/// </summary>
public sealed class GeminiErrorMiddleware(RequestDelegate next, ILogger<GeminiErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (context.RequestAborted.IsCancellationRequested && ex is OperationCanceledException or IOException)
        {
            // The client disconnected: its generation was cancelled, or its upload body ended early (and was kept).
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            var error = Translate(ex);
            if (error.Status == ErrorStatus.Internal)
                logger.LogError(ex, "Unhandled error for {Method} {Path}", context.Request.Method, context.Request.Path);
            context.Response.Clear();
            await ErrorShapes.WriteAsync(context, error).ConfigureAwait(false);
        }
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
