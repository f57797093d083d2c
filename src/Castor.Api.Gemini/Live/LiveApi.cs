using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Live;
using Castor.Application.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Castor.Api.Gemini.Live;

/// <summary>
/// The Live API: <c>/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent</c> (API keys) and
/// <c>…BidiGenerateContentConstrained</c> (ephemeral tokens, <c>?access_token=auth_tokens/…</c>, as <c>@google/genai</c> sends them).
/// </summary>
public static class LiveApi
{
    public static readonly IReadOnlyList<string> Versions = ["v1beta", "v1alpha"];

    public static string BidiGenerateContentPath(string version) => $"/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent";

    public static string BidiGenerateContentConstrainedPath(string version) => BidiGenerateContentPath(version) + "Constrained";

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
        // A draining server (SIGTERM) waits for running requests before ApplicationStopping fires: sessions go then.
        if (services.GetService<ServerDrain>() is { } drain)
            stopping = CancellationTokenSource.CreateLinkedTokenSource(stopping, drain.Draining).Token;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Castor.Live");
        // How long the host waits for requests when it stops: what a draining session's goAway announces.
        var drainTime = services.GetService<IOptions<HostOptions>>()?.Value.ShutdownTimeout ?? TimeSpan.Zero;
        LiveSessionServices? shared = null;
        LiveSessionServices Shared(IServiceProvider sp) => shared ??= new LiveSessionServices(sp.GetRequiredService<IGenerationService>(),
            sp.GetRequiredService<LiveResumptionService>(), sp.GetRequiredService<ModelCatalogue>(), options, drainTime, logger,
            sp.GetService<Castor.Application.Quotas.LiveSessionQuota>());
        foreach (var version in Versions)
        {
            routes.Map(BidiGenerateContentPath(version), (HttpContext context, ApiKeyService keys) =>
                ConnectAsync(context, keys, null, Shared(context.RequestServices), slots, stopping)).AllowAnonymous().WithMetadata(GeminiErrorsMetadata)
                .Produces(StatusCodes.Status101SwitchingProtocols);
            routes.Map(BidiGenerateContentConstrainedPath(version), (HttpContext context, ApiKeyService keys, AuthTokenService tokens) =>
                ConnectAsync(context, keys, tokens, Shared(context.RequestServices), slots, stopping)).AllowAnonymous().WithMetadata(GeminiErrorsMetadata)
                .Produces(StatusCodes.Status101SwitchingProtocols);
        }
        return routes;
    }

    private static readonly IApiErrorWriter GeminiErrorsMetadata = Infrastructure.GeminiErrors.Instance;

    /// <summary>Opens one session; <paramref name="tokens"/> is set on the Constrained endpoint, where an ephemeral token may stand for the key.</summary>
    private static async Task ConnectAsync(HttpContext context, ApiKeyService keys, AuthTokenService? tokens, LiveSessionServices services,
        LiveSessionSlots slots, CancellationToken stopping)
    {
        var options = services.Options;
        if (!context.WebSockets.IsWebSocketRequest)
            throw CastorException.InvalidArgument("BidiGenerateContent is a WebSocket endpoint; connect with a WebSocket upgrade (GET with Upgrade: websocket).");
        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        using var metered = Castor.Application.Metering.UsageContext.Begin(Castor.Application.Metering.UsageMethods.Live);

        Caller caller;
        LiveSetupLock? setupLock = null;
        DateTimeOffset? tokenExpireTime = null;
        try
        {
            if (tokens is not null && FindAccessToken(context.Request) is { } accessToken)
            {
                // The use is counted when the session starts; a refused token closes with 1008 and the reason.
                var token = await tokens.StartSessionAsync(accessToken, context.RequestAborted).ConfigureAwait(false);
                caller = token.Caller;
                setupLock = LiveSetupLock.From(token.Setup, token.FieldMask);
                tokenExpireTime = token.ExpireTime;
            }
            else
            {
                var key = ApiKeyMiddleware.FindKey(context.Request);
                if (string.IsNullOrEmpty(key)) throw ApiKeyRejected.Missing();
                caller = await keys.AuthenticateAsync(key, context.RequestAborted).ConfigureAwait(false);
            }
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
            using var session = new LiveSession(socket, caller, services, setupLock, tokenExpireTime);
            await session.RunAsync(context.RequestAborted, stopping).ConfigureAwait(false);
        }
        finally
        {
            slots.Exit();
        }
    }

    /// <summary>An ephemeral token: <c>?access_token=</c> (what the SDK sends) or <c>Authorization: Token …</c> (what the API also documents).</summary>
    private static string? FindAccessToken(HttpRequest request)
    {
        var token = (string?)request.Query["access_token"];
        if (string.IsNullOrEmpty(token))
        {
            var header = (string?)request.Headers.Authorization;
            if (header is not null && header.StartsWith("Token ", StringComparison.OrdinalIgnoreCase)) token = header[6..].Trim();
        }
        if (string.IsNullOrEmpty(token)) return null;
        return token.StartsWith(AuthTokenService.NamePrefix, StringComparison.Ordinal) ? token : AuthTokenService.NamePrefix + token;
    }
}
