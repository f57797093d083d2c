using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Storage.Metering;
using Microsoft.Extensions.Logging;

namespace Castor.Application.Metering;

/// <summary>
/// Counts usage in memory per hour and (project, key, model, method, batch, status), and adds the counts to the
/// database every <see cref="UsageOptions.FlushInterval"/> and at shutdown. Recording a request is a dictionary update
/// under a lock held for a few instructions, never across a generation or a database write, so metering costs the
/// request path nothing measurable; the price is that a crash loses at most one flush interval of usage.
/// </summary>
public sealed class UsageMeter(IUsageStore store, UsageOptions options, TimeProvider clock, ILogger<UsageMeter> logger)
{
    private readonly Lock _gate = new();
    private Dictionary<UsageBucket, UsageCounts> _pending = [];

    /// <summary>Buckets counted since the last flush.</summary>
    public int PendingBuckets
    {
        get { lock (_gate) return _pending.Count; }
    }

    /// <summary>Counts one finished request (or Live turn) under the hour it finished in.</summary>
    public void Record(Caller caller, string model, UsageOrigin origin, string status, UsageCounts counts)
    {
        var bucket = new UsageBucket(UsageBucket.HourOf(clock.GetUtcNow()), caller.ProjectId, caller.KeyId, ModelName(model), origin.Method, origin.Batch, status);
        lock (_gate)
            _pending[bucket] = _pending.TryGetValue(bucket, out var sum) ? sum + counts : counts;
    }

    /// <summary>Counts a request that failed with <paramref name="exception"/>, under its status.</summary>
    public void RecordFailure(Caller caller, string model, UsageOrigin origin, Exception exception, UsageCounts counts)
    {
        var status = StatusOf(exception);
        // The batch worker leaves a request the engine had no room for to be claimed again later: that is not a
        // result, and counting it would count the request once per attempt.
        if (origin.Batch && status is "UNAVAILABLE" or "RESOURCE_EXHAUSTED") return;
        Record(caller, model, origin, status, counts);
    }

    /// <summary>Adds everything counted so far to the database. On failure the counts are kept for the next flush.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        Dictionary<UsageBucket, UsageCounts> taken;
        lock (_gate)
        {
            if (_pending.Count == 0) return;
            taken = _pending;
            _pending = [];
        }
        try
        {
            await store.AddAsync(taken, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (_gate)
                foreach (var (bucket, counts) in taken)
                    _pending[bucket] = _pending.TryGetValue(bucket, out var sum) ? sum + counts : counts;
            throw;
        }
    }

    /// <summary>Flushes every <see cref="UsageOptions.FlushInterval"/> until stopped, then once more.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.FlushInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
                await TryFlushAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await TryFlushAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>A flush whose failure is logged rather than thrown (the counts stay for the next one).</summary>
    public async Task TryFlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Writing usage to the database failed; it is kept in memory and written with the next flush");
        }
    }

    /// <summary>The model as the API names it in usage: without <c>models/</c>.</summary>
    public static string ModelName(string model) =>
        model.StartsWith("models/", StringComparison.Ordinal) ? model["models/".Length..] : model;

    /// <summary>
    /// A request's counts from the usage it reported. Its tool-use prompt tokens are 0: Castor runs no server-side tools
    /// (the API's <c>toolUsePromptTokenCount</c> counts those), so every token a request reads is in its prompt count.
    /// </summary>
    public static UsageCounts CountsOf(Usage? usage, TimeSpan latency, int promptTokensIfUnknown = 0, PromptTokenCounts? promptDetailsIfUnknown = null)
    {
        var prompt = usage?.PromptTokenCount ?? promptTokensIfUnknown;
        var details = usage is null ? promptDetailsIfUnknown : usage.PromptTokensDetails;
        return new UsageCounts(1, prompt, usage?.CachedContentTokenCount ?? 0, usage?.CandidatesTokenCount ?? 0, usage?.ThoughtsTokenCount ?? 0,
            details?.Text ?? prompt, details?.Image ?? 0, details?.Audio ?? 0, (long)latency.TotalMilliseconds);
    }

    /// <summary>A request that read no model: counted, with no tokens.</summary>
    public static UsageCounts RequestOnly(TimeSpan latency) => UsageCounts.Zero with { Requests = 1, LatencyMilliseconds = (long)latency.TotalMilliseconds };

    /// <summary>How a call that threw ended, as the Google RPC status the API would answer with.</summary>
    public static string StatusOf(Exception exception) => exception switch
    {
        CastorException c => StatusName(c.Status),
        OperationCanceledException => "CANCELLED",
        _ => "INTERNAL",
    };

    private static string StatusName(ErrorStatus status) => status.RpcName();
}
