namespace Castor.Server;

/// <summary>The <c>Metrics</c> section: OpenTelemetry metrics and traces (issue 20).</summary>
public sealed class MetricsOptions
{
    /// <summary>
    /// Record metrics and serve them at <c>/metrics</c> (Prometheus text), and export metrics and traces over OTLP when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. Off: no OpenTelemetry provider is built and nothing listens.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// <c>/metrics</c> answers without a key (as Prometheus scrapes), like /healthz. It shows project ids and request
    /// volumes, never key material or prompts; set false to require an admin key on it (castor keys create --admin).
    /// </summary>
    public bool Anonymous { get; set; } = true;
}
