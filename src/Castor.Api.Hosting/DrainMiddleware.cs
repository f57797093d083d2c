using Castor.Application.Errors;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.Hosting;

/// <summary>
/// Counts every request but the probes in and out of <see cref="ServerDrain"/>, and while the server drains answers new
/// ones 503 UNAVAILABLE in the route's error shape, with Retry-After, so a client (or a load balancer) goes elsewhere.
/// </summary>
public sealed class DrainMiddleware(RequestDelegate next, ServerDrain drain)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (RequestLogMiddleware.IsProbe(context.Request.Path))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        if (!drain.TryEnter())
        {
            await ApiErrors.WriteAsync(context, new CastorException(ErrorStatus.Unavailable,
                "The server is shutting down and takes no new requests. Please retry.", new RetryDelay(drain.RetryAfter))).ConfigureAwait(false);
            return;
        }
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            drain.Exit();
        }
    }
}
