using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Castor.Engine.Diagnostics;

/// <summary>
/// Castor's one <see cref="System.Diagnostics.Metrics.Meter"/> and one <see cref="System.Diagnostics.ActivitySource"/>,
/// both named "Castor". They are BCL types, so every layer records into them without knowing who listens: with no
/// listener (no OpenTelemetry provider, no MeterListener) an instrument's Add or Record costs a flag check. They live in
/// the lowest layer because the engine's own gauges use the meter and every layer above may reference the engine.
/// </summary>
public static class CastorDiagnostics
{
    /// <summary>The name of the meter and of the activity source (what <c>AddMeter</c> and <c>AddSource</c> take).</summary>
    public const string Name = "Castor";

    /// <summary>The meter every Castor instrument belongs to.</summary>
    public static readonly Meter Meter = new(Name);

    /// <summary>The source of Castor's spans: one per generation request, with children for queueing, prefill and decode.</summary>
    public static readonly ActivitySource Source = new(Name);

    /// <summary>OpenTelemetry GenAI attribute: the model the request asked for (Castor reports the resolved model id).</summary>
    public const string RequestModel = "gen_ai.request.model";

    /// <summary>OpenTelemetry GenAI attribute: generate_content, embeddings, …</summary>
    public const string OperationName = "gen_ai.operation.name";

    /// <summary>OpenTelemetry GenAI attribute of token usage: input or output.</summary>
    public const string TokenType = "gen_ai.token.type";

    /// <summary>OpenTelemetry's attribute for a failed operation's class (here the API's error status, e.g. INVALID_ARGUMENT).</summary>
    public const string ErrorType = "error.type";

    /// <summary>The Castor project a request was made in (its id, never key material).</summary>
    public const string ProjectId = "castor.project.id";
}
