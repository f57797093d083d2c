using Castor.Application.Errors;
using Castor.Application.Keys;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.Gemini.Infrastructure;

/// <summary>
/// Every API route needs a key, sent as <c>x-goog-api-key</c>, <c>?key=</c> or <c>Authorization: Bearer</c>.
/// No key: 403 PERMISSION_DENIED; an unknown or revoked key: 400 API_KEY_INVALID, exactly as the Gemini API answers.
/// The caller's project is then available through <see cref="CallerFeature"/>.
/// </summary>
public sealed class ApiKeyMiddleware(RequestDelegate next)
{
    public const string MissingKeyMessage =
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";

    private static readonly string[] ProtectedPrefixes = ["/v1beta", "/v1alpha", "/v1", "/upload"];

    public async Task InvokeAsync(HttpContext context, ApiKeyService keys)
    {
        if (!IsApiPath(context.Request.Path))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var key = FindKey(context.Request);
        if (string.IsNullOrEmpty(key))
        {
            throw new CastorException(ErrorStatus.PermissionDenied, MissingKeyMessage);
        }

        var caller = await keys.AuthenticateAsync(key, context.RequestAborted).ConfigureAwait(false);
        context.Features.Set(new CallerFeature(caller));
        await next(context).ConfigureAwait(false);
    }

    // Routing matches paths case-insensitively, so the key check must too, or /V1BETA/... would skip it.
    private static bool IsApiPath(PathString path)
    {
        foreach (var prefix in ProtectedPrefixes)
            if (path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    internal static string? FindKey(HttpRequest request)
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

/// <summary>The authenticated caller of the current request.</summary>
public sealed record CallerFeature(Caller Caller);

public static class CallerExtensions
{
    /// <summary>The caller <see cref="ApiKeyMiddleware"/> authenticated; every API route runs behind it.</summary>
    public static Caller Caller(this HttpContext context) =>
        context.Features.Get<CallerFeature>()?.Caller ?? throw new InvalidOperationException("The API key middleware did not run for this request.");
}
