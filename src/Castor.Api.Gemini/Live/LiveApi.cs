using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Castor.Api.Gemini.Live;

/// <summary>The Live API: <c>/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent</c>.</summary>
public static class LiveApi
{
    public static readonly IReadOnlyList<string> Versions = ["v1beta", "v1alpha"];

    public static string BidiGenerateContentPath(string version) => $"/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent";

    /// <summary>
    /// <c>@google/genai</c> joins its base URL (which ends in <c>/</c>) and <c>/ws/…</c>, so it always asks for <c>//ws/…</c>.
    /// Routing would not match that; this folds the leading double slash before routing runs (call before <c>UseRouting</c>).
    /// </summary>
    public static IApplicationBuilder UseLiveRequestTargets(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var path = context.Request.Path.Value;
        if (path is not null && path.StartsWith("//ws/", StringComparison.Ordinal))
            context.Request.Path = new PathString(path[1..]);
        return next(context);
    });

    /// <summary>
    /// Maps the BidiGenerateContent socket. The endpoint checks the key itself, after the upgrade: the SDK's
    /// <c>connect()</c> never settles on a refused upgrade, but reports a 1008 close with the API's reason.
    /// </summary>
    public static IEndpointRouteBuilder MapGeminiLiveApi(this IEndpointRouteBuilder routes)
    {
        var services = routes.ServiceProvider;
        var options = services.GetService<LiveOptions>() ?? new LiveOptions();
        var slots = new LiveSessionSlots(options.MaxSessions);
        var stopping = services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Castor.Live");
        foreach (var version in Versions)
        {
            routes.Map(BidiGenerateContentPath(version), (HttpContext context, ApiKeyService keys, IGenerationService generation) =>
                ConnectAsync(context, keys, generation, options, slots, logger, stopping)).AllowAnonymous().WithMetadata(GeminiErrorsMetadata);
        }
        return routes;
    }

    private static readonly IApiErrorWriter GeminiErrorsMetadata = Infrastructure.GeminiErrors.Instance;

    private static async Task ConnectAsync(HttpContext context, ApiKeyService keys, IGenerationService generation, LiveOptions options,
        LiveSessionSlots slots, ILogger logger, CancellationToken stopping)
    {
        if (!context.WebSockets.IsWebSocketRequest)
            throw CastorException.InvalidArgument("BidiGenerateContent is a WebSocket endpoint; connect with a WebSocket upgrade (GET with Upgrade: websocket).");
        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);

        Caller caller;
        try
        {
            var key = ApiKeyMiddleware.FindKey(context.Request);
            if (string.IsNullOrEmpty(key)) throw ApiKeyRejected.Missing();
            caller = await keys.AuthenticateAsync(key, context.RequestAborted).ConfigureAwait(false);
        }
        catch (CastorException error)
        {
            await LiveSession.RefuseAsync(socket, new LiveCloseException(LiveCloseException.PolicyViolation, error.Message)).ConfigureAwait(false);
            return;
        }

        if (!slots.TryEnter())
        {
            await LiveSession.RefuseAsync(socket, new LiveCloseException(LiveCloseException.TryAgainLater,
                $"This server already holds {options.MaxSessions} Live sessions (Live:MaxSessions); try again later.")).ConfigureAwait(false);
            return;
        }
        try
        {
            using var session = new LiveSession(socket, caller, generation, options, logger);
            await session.RunAsync(context.RequestAborted, stopping).ConfigureAwait(false);
        }
        finally
        {
            slots.Exit();
        }
    }
}
