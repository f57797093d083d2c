using Castor.Application.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.Api.Hosting;

/// <summary>Writes an error in the shape of the adapter that owns the request's route (see <see cref="IApiErrorWriter"/>).</summary>
public static class ApiErrors
{
    public static Task WriteAsync(HttpContext context, CastorException error)
    {
        Record(context, error);
        // Both wires' clients honour Retry-After (the openai SDK and the AI SDK wait exactly that long); RetryInfo
        // in the body says the same for clients that read details.
        if (error.Details.OfType<RetryDelay>().FirstOrDefault() is { } retry)
            context.Response.Headers.RetryAfter = ((long)Math.Ceiling(retry.Delay.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return WriterFor(context).WriteAsync(context, error);
    }

    /// <summary>
    /// The matched route's writer (its group's metadata); for a path no route matched, the adapter whose group prefix it
    /// lies under; else the host's default.
    /// </summary>
    public static IApiErrorWriter WriterFor(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<IApiErrorWriter>() is { } routeWriter) return routeWriter;
        var surface = context.RequestServices?.GetService<ApiSurface>();
        return surface?.OwnerOf(context.Request.Path) ?? surface?.DefaultErrorWriter ?? PlainErrorWriter.Instance;
    }

    /// <summary>
    /// Remembers the error a request answered with, so <see cref="ApiErrorMiddleware"/> logs it once the request
    /// ends; errors written in-band after a stream started are recorded here too.
    /// </summary>
    public static void Record(HttpContext context, CastorException error) => context.Features.Set(new ErrorResponseFeature(error));
}
