using System.Diagnostics;
using System.Diagnostics.Metrics;
using Castor.Application.Telemetry;
using Castor.Engine.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Castor.Api.Hosting;

/// <summary>
/// One structured log line per request when it ends (API method, model, project id, status, prompt and output tokens,
/// time to first token, duration), and the <c>castor.requests</c> counter by method, model and status. The application
/// fills a <see cref="RequestTelemetry"/> put in place here. Never the query string, headers, a key or prompt text
/// (unless <see cref="RequestLogSettings.Prompts"/>). Probes and /metrics are logged at Debug only.
/// </summary>
public sealed class RequestLogMiddleware(RequestDelegate next, ILogger<RequestLogMiddleware> logger, RequestLogSettings settings)
{
    private static readonly Counter<long> Requests = CastorDiagnostics.Meter.CreateCounter<long>(
        "castor.requests", "{request}", "API requests by API method, model and HTTP status.");

    /// <summary>The health and metrics paths: they run while draining, are not counted in flight, and log at Debug.</summary>
    public static bool IsProbe(PathString path) =>
        path.Equals("/healthz", StringComparison.Ordinal) || path.Equals("/readyz", StringComparison.Ordinal) || path.Equals("/metrics", StringComparison.Ordinal);

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var record = new RequestTelemetry { CapturePrompt = settings.Prompts };
        RequestTelemetry.Current = record;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            RequestTelemetry.Current = null;
            End(context, record, Stopwatch.GetElapsedTime(started));
        }
    }

    private void End(HttpContext context, RequestTelemetry record, TimeSpan duration)
    {
        var method = ApiMethod(context);
        // An error sent in-band after a stream began is the request's outcome, though the status line said 200.
        var error = context.Features.Get<ErrorResponseFeature>()?.Error;
        var status = context.Response.StatusCode;
        if (status < 400 && error is not null) status = ErrorHttp.StatusCode(error.Status);
        var project = context.Features.Get<CallerFeature>()?.Caller.ProjectId;

        var probe = IsProbe(context.Request.Path);
        if (method is not null && !probe)
        {
            var tags = new TagList
            {
                { "castor.api.method", method },
                { CastorDiagnostics.RequestModel, record.Model ?? "" },
                { "http.response.status_code", status },
            };
            Requests.Add(1, tags);
        }

        var level = probe ? LogLevel.Debug : LogLevel.Information;
        if (!logger.IsEnabled(level)) return;
        var name = method ?? context.Request.Method;
        var milliseconds = Math.Round(duration.TotalMilliseconds, 1);
        if (record.Model is null)
        {
            logger.Log(level, "{ApiMethod} project={ProjectId} status={StatusCode} durationMs={DurationMs}", name, project, status, milliseconds);
            return;
        }
        var ttft = record.TimeToFirstToken is { } t ? Math.Round(t.TotalMilliseconds, 1) : (double?)null;
        if (record.Prompt is { } prompt)
            logger.Log(level, "{ApiMethod} model={Model} project={ProjectId} status={StatusCode} promptTokens={PromptTokens} outputTokens={OutputTokens} ttftMs={TtftMs} durationMs={DurationMs} prompt={Prompt}",
                name, record.Model, project, status, record.PromptTokens, record.OutputTokens, ttft, milliseconds, prompt);
        else
            logger.Log(level, "{ApiMethod} model={Model} project={ProjectId} status={StatusCode} promptTokens={PromptTokens} outputTokens={OutputTokens} ttftMs={TtftMs} durationMs={DurationMs}",
                name, record.Model, project, status, record.PromptTokens, record.OutputTokens, ttft, milliseconds);
    }

    /// <summary>
    /// The API method a request called: the Gemini method after the colon (<c>models/x:generateContent</c> →
    /// generateContent), else the endpoint's name, else its HTTP method and route pattern; null when no route matched
    /// (a bounded set of values, never the raw path, so it can label a metric).
    /// </summary>
    internal static string? ApiMethod(HttpContext context)
    {
        if (context.GetEndpoint() is not RouteEndpoint endpoint) return null;
        var path = context.Request.Path.Value ?? "";
        var slash = path.LastIndexOf('/');
        var colon = path.LastIndexOf(':');
        if (colon > slash && colon < path.Length - 1 && endpoint.RoutePattern.RawText?.Contains("**", StringComparison.Ordinal) == true)
        {
            var name = path[(colon + 1)..];
            // Only plain method names: a client's odd path must not become a label value.
            if (name.Length <= 40 && name.All(char.IsAsciiLetter)) return name;
            return "unknown";
        }
        if (endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName is { } endpointName) return endpointName;
        return context.Request.Method + " " + endpoint.RoutePattern.RawText;
    }
}
