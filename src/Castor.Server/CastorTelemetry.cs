using Castor.Api.Hosting;
using Castor.Engine.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Castor.Server;

/// <summary>
/// OpenTelemetry for Castor: the "Castor" meter (GenAI and castor.* instruments), ASP.NET Core's and the runtime's
/// (GC, threads, thread pool) for Prometheus at <c>/metrics</c>; metrics and traces (the "Castor" source: a span per
/// generation with queueing, prefill and decode children, under ASP.NET Core's request span) over OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the exporter reads the OTEL_* variables itself).
/// </summary>
internal static class CastorTelemetry
{
    public const string MetricsPath = "/metrics";

    /// <summary>Whether OTLP export is asked for, as OpenTelemetry's exporters define it.</summary>
    public static bool OtlpConfigured =>
        !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));

    public static void AddCastorTelemetry(this IServiceCollection services, MetricsOptions options)
    {
        if (!options.Enabled) return;
        var otlp = OtlpConfigured;
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                // OTEL_SERVICE_NAME, when set, names the service (the default detectors read it); else "castor".
                if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME")))
                    resource.AddService("castor", serviceVersion: typeof(CastorTelemetry).Assembly.GetName().Version?.ToString());
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(CastorDiagnostics.Name)
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    // Every scrape reads fresh values: scrapes are seconds apart, and a test that reads twice sees its change.
                    .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
                if (otlp) metrics.AddOtlpExporter();
            });
        // Without an exporter nobody would read spans; leaving tracing off keeps the ActivitySource without listeners (free).
        if (otlp)
            telemetry.WithTracing(tracing => tracing.AddSource(CastorDiagnostics.Name).AddAspNetCoreInstrumentation().AddOtlpExporter());
    }

    /// <summary>
    /// Prometheus text at <c>/metrics</c>: anonymous, or with Metrics:Anonymous false for admin keys only (the key check
    /// has run by then; this step refuses a project key with 403 before the exporter answers).
    /// </summary>
    public static void MapCastorMetrics(this WebApplication app, MetricsOptions options)
    {
        if (!options.Enabled) return;
        if (!options.Anonymous)
            app.Use((context, next) =>
            {
                if (context.Request.Path.Equals(MetricsPath, StringComparison.Ordinal))
                    context.Features.Get<CallerFeature>()?.Caller.RequireAdmin();
                return next(context);
            });
        var endpoint = app.MapPrometheusScrapingEndpoint(MetricsPath);
        endpoint.WithTags("Operations").WithDisplayName("Prometheus metrics (text exposition format)")
            .WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), ["text/plain"]));
        if (options.Anonymous) endpoint.AllowAnonymous();
    }
}
