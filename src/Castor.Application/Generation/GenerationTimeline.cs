using System.Diagnostics;

namespace Castor.Application.Generation;

/// <summary>
/// When a generation passed its phases, as <see cref="Stopwatch.GetTimestamp"/> values (0: not reached): submitted to the
/// backend, admitted from its queue, prompt computed, finished. <see cref="GenerationStream"/> fills it from the events it
/// already reads, once per phase (never per token); the telemetry wrapper turns it into spans and histograms.
/// </summary>
public sealed class GenerationTimeline
{
    /// <summary>When the request was handed to the backend (its queueing starts).</summary>
    public long Submitted { get; internal set; } = Stopwatch.GetTimestamp();

    /// <summary>When the backend gave the request its sequences (queueing ends, prefill starts).</summary>
    public long Admitted { get; internal set; }

    /// <summary>When the prompt was in the KV cache (prefill ends, decode starts).</summary>
    public long PromptEvaluated { get; internal set; }

    /// <summary>Prompt tokens that were found resident and not computed.</summary>
    public int ReusedPromptTokens { get; internal set; }
}
