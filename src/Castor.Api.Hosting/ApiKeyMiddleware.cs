using Castor.Application.Keys;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Castor.Api.Hosting;

/// <summary>
/// Deny by default: every route needs a key, sent as <c>x-goog-api-key</c>, <c>?key=</c> or <c>Authorization: Bearer</c>,
/// unless its endpoint says <c>AllowAnonymous()</c> (<c>/healthz</c>, <c>/</c>). A path no route matched needs one when it
/// lies under an adapter's group prefix (<see cref="ApiSurface"/>), so a mistyped API path answers 403 before 404, as the
/// Gemini API does. No key: 403 PERMISSION_DENIED; an unknown or revoked key: 400 API_KEY_INVALID (each wire may
/// answer these its own way: both carry <see cref="ApiKeyRejected"/>). The caller is then available as <see cref="CallerExtensions.Caller"/>.
/// </summary>
public sealed class ApiKeyMiddleware(RequestDelegate next, ApiSurface surface)
{
    public async Task InvokeAsync(HttpContext context, ApiKeyService keys)
    {
        if (!NeedsKey(context))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var key = FindKey(context.Request);
        if (string.IsNullOrEmpty(key)) throw ApiKeyRejected.Missing();

        var caller = await keys.AuthenticateAsync(key, context.RequestAborted).ConfigureAwait(false);
        context.Features.Set(new CallerFeature(caller));
        await next(context).ConfigureAwait(false);
    }

    private bool NeedsKey(HttpContext context)
    {
        // A route the application mapped. Routing's own stand-ins (the 405 endpoint for a wrong method) are not
        // RouteEndpoints and carry no metadata: they are judged by their path, like a path that matched nothing.
        if (context.GetEndpoint() is RouteEndpoint route)
            return route.Metadata.GetMetadata<IAllowAnonymous>() is null;
        return surface.OwnerOf(context.Request.Path) is not null;
    }

    /// <summary>The key a request carries (header, query or bearer token), trimmed; null when it carries none.</summary>
    public static string? FindKey(HttpRequest request)
    {
        if (request.Headers.TryGetValue("x-goog-api-key", out var header) && !string.IsNullOrWhiteSpace(header))
            return header.ToString().Trim();
        if (request.Query.TryGetValue("key", out var query) && !string.IsNullOrWhiteSpace(query))
            return query.ToString().Trim();
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return authorization["Bearer ".Length..].Trim();
        return null;
    }
}
