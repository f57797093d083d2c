using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Castor.Engine.Scheduling;

namespace Castor.Engine.Diagnostics;

/// <summary>
/// The engine's instruments. Gauges and counters are observed: each collection reads the counters every scheduler
/// already keeps (plain field reads, on the collector's thread), so the decode loop does no metric work per token. The
/// one pushed counter, grammar refusals, is added to on a request's failure path only.
/// </summary>
internal static class EngineMetrics
{
    private static readonly ConcurrentDictionary<SequenceScheduler, string> Schedulers = new();

    /// <summary>Requests whose grammar was too costly to enforce (structured output, forced tool calls), by model.</summary>
    public static readonly Counter<long> GrammarRefusals = CastorDiagnostics.Meter.CreateCounter<long>(
        "castor.grammar.refusals", "{request}", "Requests refused because their response grammar was too costly to enforce.");

    static EngineMetrics()
    {
        var meter = CastorDiagnostics.Meter;
        meter.CreateObservableUpDownCounter("castor.sequences.running", () => Observe(s => s.ActiveSequences),
            "{sequence}", "Sequences generating now (one per candidate of a running request).");
        meter.CreateObservableUpDownCounter("castor.sequences.queued", () => Observe(s => s.QueuedRequests),
            "{request}", "Requests waiting for free sequences.");
        meter.CreateObservableUpDownCounter("castor.kv.cells.used", () => Observe(s => s.KvCellsUsed),
            "{cell}", "KV cells holding a token: running sequences and prompts kept resident for reuse.");
        meter.CreateObservableUpDownCounter("castor.kv.cells.total", () => Observe(s => s.KvCellsTotal),
            "{cell}", "KV cells the model's context has (parallel sequences × context per sequence).");
        meter.CreateObservableCounter("castor.prompt.tokens.reused", () => Observe(s => s.PromptTokensReused),
            "{token}", "Prompt tokens found resident (an implicit cache hit) and not computed again.");
        meter.CreateObservableCounter("castor.prefill.tokens", () => Observe(s => s.PromptTokensComputed),
            "{token}", "Prompt tokens computed (prefill); rate() gives prefill tokens per second.");
        meter.CreateObservableCounter("castor.decode.tokens", () => Observe(s => s.TokensGenerated),
            "{token}", "Tokens sampled (decode); rate() gives decode tokens per second.");
    }

    /// <summary>Starts observing <paramref name="scheduler"/> (until <see cref="Remove"/>) under its model's id.</summary>
    public static void Add(SequenceScheduler scheduler, string modelId) => Schedulers[scheduler] = modelId;

    public static void Remove(SequenceScheduler scheduler) => Schedulers.TryRemove(scheduler, out _);

    // One measurement per model id: a process normally runs one scheduler per model, but one that hosts several servers
    // (tests, the bench) may have several with the same id, and an observable instrument keeps one value per label set.
    private static IEnumerable<Measurement<long>> Observe(Func<SequenceScheduler, long> read)
    {
        var sums = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (scheduler, model) in Schedulers) sums[model] = sums.GetValueOrDefault(model) + read(scheduler);
        foreach (var (model, sum) in sums)
            yield return new Measurement<long>(sum, new KeyValuePair<string, object?>(CastorDiagnostics.RequestModel, model));
    }

    private static IEnumerable<Measurement<int>> Observe(Func<SequenceScheduler, int> read)
    {
        var sums = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (scheduler, model) in Schedulers) sums[model] = sums.GetValueOrDefault(model) + read(scheduler);
        foreach (var (model, sum) in sums)
            yield return new Measurement<int>(sum, new KeyValuePair<string, object?>(CastorDiagnostics.RequestModel, model));
    }
}
