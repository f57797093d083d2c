using Castor.Application.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.Api.Gemini.Infrastructure;

/// <summary>
/// An error body format other than Google's RPC shape, for the paths another wire owns (the OpenAI-compatible
/// routes answer <c>{"error":{"message","type","param","code"}}</c>). Registered in DI; the error middleware, the
/// status pages and the key check all write through <see cref="ErrorShapes"/>, so a path gets one shape everywhere.
/// </summary>
public interface IErrorShape
{
    bool Owns(HttpRequest request);
    Task WriteAsync(HttpContext context, CastorException error);
}

public static class ErrorShapes
{
    public static Task WriteAsync(HttpContext context, CastorException error)
    {
        Record(context, error);
        // Both wires' clients honour Retry-After (the openai SDK and the AI SDK wait exactly that long); RetryInfo
        // in the body says the same for clients that read details.
        if (error.Details.OfType<RetryDelay>().FirstOrDefault() is { } retry)
            context.Response.Headers.RetryAfter = ((long)Math.Ceiling(retry.Delay.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var shape in context.RequestServices.GetServices<IErrorShape>())
            if (shape.Owns(context.Request)) return shape.WriteAsync(context, error);
        return GeminiErrors.WriteAsync(context, error);
    }

    /// <summary>
    /// Remembers the error a request answered with, so <see cref="GeminiErrorMiddleware"/> logs it once the request
    /// ends; errors written in-band after a stream started are recorded here too.
    /// </summary>
    public static void Record(HttpContext context, CastorException error) => context.Features.Set(new ErrorResponseFeature(error));
}

/// <summary>The error a request answered with (the last one recorded).</summary>
public sealed record ErrorResponseFeature(CastorException Error);
