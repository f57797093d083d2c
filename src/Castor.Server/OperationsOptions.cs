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
    /// volumes, never key material or prompts; set false to require an API key on it.
    /// </summary>
    public bool Anonymous { get; set; } = true;
}

/// <summary>The <c>Logging</c> section of the Castor settings: the console's format and what a request's line may hold.</summary>
public sealed class LogOptions
{
    /// <summary><c>simple</c> (one line per entry, the default) or <c>json</c> (one JSON object per entry; <c>--log-format json</c>).</summary>
    public string Format { get; set; } = "simple";

    /// <summary>Add the prompt's last text to the request log line. Off by default: prompts are the users' data.</summary>
    public bool Prompts { get; set; }
}
