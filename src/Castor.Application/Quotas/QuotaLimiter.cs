using System.Globalization;
using Castor.Application.Errors;
using Castor.Application.Keys;
using Castor.Storage.Quotas;

namespace Castor.Application.Quotas;

/// <summary>
/// The one rate limiter: before a request's work starts it adds the request (and its estimated input tokens) to its
/// project's counters for the model, in one store round trip, and refuses it with the API's 429 when a total passes a
/// limit (taking its share back, so refused requests do not count). Counters live in the shared store, whose upsert is
/// atomic per counter: concurrent requests, on one node or several, each see a distinct total, so no more than the
/// limit are admitted. No lock is held at any time, least of all across the generation.
/// </summary>
public sealed class QuotaLimiter(QuotaOptions options, IQuotaCounterStore counters, IProjectStore projects, TimeProvider clock, IBatchBacklogStore? backlog = null)
{
    private const string RequestsPerMinute = "rpm";
    private const string TokensPerMinute = "tpm";
    private const string RequestsPerDay = "rpd";
    internal const string RateLimitsDoc = "https://ai.google.dev/gemini-api/docs/rate-limits";

    private long _sweptBefore;

    public QuotaOptions Options => options;

    /// <summary>
    /// Admits <paramref name="requests"/> requests with <paramref name="inputTokens"/> input tokens for the caller's
    /// project on <paramref name="modelId"/> (the local model; <paramref name="requestedModel"/> is the name the client
    /// used), or throws 429 RESOURCE_EXHAUSTED. Null when no limit applies (nothing was counted). Zero requests (a Live
    /// turn, whose session was the request) count tokens only.
    /// </summary>
    public async ValueTask<QuotaAdmission?> AdmitAsync(Caller caller, QuotaOperation operation, string modelId, string requestedModel,
        long requests, long inputTokens, CancellationToken cancellationToken)
    {
        var tier = await TierOfAsync(caller, cancellationToken).ConfigureAwait(false);
        if (tier is null || options.LimitsFor(tier, modelId, requestedModel) is not { LimitsRequests: true } limits) return null;

        var now = clock.GetUtcNow();
        var minute = QuotaWindows.Minute(now, options.MinuteWindow);
        var day = QuotaWindows.Day(now);
        var deltas = DeltasOf(caller, modelId, limits, minute.Start, day.Start, requests, inputTokens);
        if (deltas.Count == 0) return null;

        var totals = await counters.AddAsync(deltas, cancellationToken).ConfigureAwait(false);
        CastorException? refusal = null;
        var longest = TimeSpan.MinValue;
        for (var i = 0; i < deltas.Count; i++)
        {
            var (limit, end) = deltas[i].Metric switch
            {
                RequestsPerMinute => (limits.Rpm, minute.End),
                TokensPerMinute => (limits.Tpm, minute.End),
                _ => (limits.Rpd, day.End),
            };
            if (totals[i] <= limit) continue;
            // The client must wait for every exhausted window; name the one that frees last.
            var wait = end - now;
            if (wait <= longest) continue;
            longest = wait;
            refusal = Exhausted(operation, tier, deltas[i].Metric, limit, modelId, wait);
        }
        if (refusal is not null)
        {
            await GiveBackAsync(deltas).ConfigureAwait(false);
            throw refusal;
        }
        SweepOldWindows(day.Start);
        return new QuotaAdmission(deltas);
    }

    /// <summary>
    /// Whether the caller's tier limits Batch Enqueued Tokens for any model: then a new job's requests are tokenized as
    /// they are enqueued, so the limit adds up real counts.
    /// </summary>
    public async ValueTask<bool> LimitsBatchTokensAsync(Caller caller, CancellationToken cancellationToken)
    {
        if (backlog is null || await TierOfAsync(caller, cancellationToken).ConfigureAwait(false) is not { } tier) return false;
        return options.Tiers.TryGetValue(tier, out var models) && models.Values.Any(l => l.BatchEnqueuedTokens > 0);
    }

    /// <summary>
    /// Checks a batch job just stored against its tier's <c>BatchEnqueuedTokens</c> for the model: the input tokens of
    /// every request not yet run in the project's open jobs for it, the new job's included, as counted when they were
    /// enqueued (a request not counted then, by its length: about four characters a token). Throws the API's 429 when
    /// they pass the limit; the caller then deletes the job. Two jobs created at once may both be refused, never both
    /// admitted over the limit.
    /// </summary>
    public async Task CheckBatchAsync(Caller caller, QuotaOperation operation, string modelId, string requestedModel, string storedModel, CancellationToken cancellationToken)
    {
        if (backlog is null) return;
        if (await TierOfAsync(caller, cancellationToken).ConfigureAwait(false) is not { } tier) return;
        var limit = options.LimitsFor(tier, modelId, requestedModel)?.BatchEnqueuedTokens ?? 0;
        if (limit <= 0) return;
        var tokens = await backlog.EnqueuedTokensAsync(caller.ProjectId, modelId, storedModel, cancellationToken).ConfigureAwait(false);
        if (tokens <= limit) return;

        var (snake, pascal) = TierNames(tier);
        var op = operation == QuotaOperation.EmbedContent ? "embed_content" : "generate_content";
        var quotaMetric = $"generativelanguage.googleapis.com/batch_{op}_{snake}_enqueued_tokens";
        var description = $"Quota exceeded for metric: {quotaMetric}, limit: {limit}, model: {modelId}";
        throw new CastorException(ErrorStatus.ResourceExhausted,
            "You exceeded your current quota, please check your plan and billing details. For more information on this error, " +
            $"head to: {RateLimitsDoc}.\n* {description}\nThe batch jobs of this project waiting for this model hold {tokens} input tokens " +
            "with this one; retry when some of them have finished.",
            new QuotaViolation(quotaMetric, $"BatchEnqueuedTokensPerProjectPerModel-{pascal}", description)
            {
                Dimensions = new Dictionary<string, string> { ["location"] = "global", ["model"] = modelId },
                Value = limit,
            },
            new HelpLink("Learn more about Gemini API quotas", RateLimitsDoc));
    }

    /// <summary>
    /// Counts a call that already ran without being admitted (it reached the model by a path without the admission
    /// seam): its requests and tokens are added, and nothing is refused, since the work is done.
    /// </summary>
    public async Task CountAsync(Caller caller, string modelId, string requestedModel, long requests, long inputTokens)
    {
        var tier = await TierOfAsync(caller, CancellationToken.None).ConfigureAwait(false);
        if (tier is null || options.LimitsFor(tier, modelId, requestedModel) is not { LimitsRequests: true } limits) return;
        var now = clock.GetUtcNow();
        var deltas = DeltasOf(caller, modelId, limits, QuotaWindows.Minute(now, options.MinuteWindow).Start, QuotaWindows.Day(now).Start,
            requests, inputTokens);
        if (deltas.Count > 0) await counters.AddAsync(deltas, CancellationToken.None).ConfigureAwait(false);
    }

    private static List<QuotaCounterDelta> DeltasOf(Caller caller, string modelId, QuotaLimits limits,
        long minuteStart, long dayStart, long requests, long inputTokens)
    {
        var deltas = new List<QuotaCounterDelta>(3);
        if (limits.Rpm > 0 && requests > 0) deltas.Add(new(caller.ProjectId, modelId, RequestsPerMinute, minuteStart, requests));
        // A Live session's start brings no tokens (its turns do): nothing to add to TPM then.
        if (limits.Tpm > 0 && (inputTokens > 0 || requests == 0)) deltas.Add(new(caller.ProjectId, modelId, TokensPerMinute, minuteStart, inputTokens));
        if (limits.Rpd > 0 && requests > 0) deltas.Add(new(caller.ProjectId, modelId, RequestsPerDay, dayStart, requests));
        return deltas;
    }

    /// <summary>The caller's tier with the default applied; null: the project is not limited.</summary>
    internal async ValueTask<string?> TierOfAsync(Caller caller, CancellationToken cancellationToken)
    {
        var tier = caller.TierKnown ? caller.Tier : await projects.GetTierAsync(caller.ProjectId, cancellationToken).ConfigureAwait(false);
        tier ??= options.DefaultTier;
        return string.IsNullOrEmpty(tier) ? null : tier;
    }

    /// <summary>Gives back what an admitted request counted, when it was refused before any work (an invalid request is not a use).</summary>
    public Task CancelAsync(QuotaAdmission? admission) => admission is null ? Task.CompletedTask : GiveBackAsync(admission.Deltas);

    private Task GiveBackAsync(IReadOnlyList<QuotaCounterDelta> deltas) =>
        // Not cancellable: a count left behind would refuse the project's later requests.
        counters.AddAsync(deltas.Select(d => d with { Amount = -d.Amount }).ToList(), CancellationToken.None);

    /// <summary>Now and then (once per new day seen) deletes counters of windows older than yesterday; they can refuse nothing.</summary>
    private void SweepOldWindows(long dayStart)
    {
        var before = dayStart - 86_400;
        var last = Interlocked.Read(ref _sweptBefore);
        if (last >= before || Interlocked.CompareExchange(ref _sweptBefore, before, last) != last) return;
        _ = Task.Run(async () =>
        {
            try { await counters.DeleteBeforeAsync(before).ConfigureAwait(false); }
            catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException) { }
        });
    }

    /// <summary>The API's 429 for a limit: its message, QuotaFailure (metric, id, dimensions, value), Help and RetryInfo.</summary>
    private static CastorException Exhausted(QuotaOperation operation, string tier, string metric, long limit, string model, TimeSpan wait)
    {
        var (snake, pascal) = TierNames(tier);
        var (op, opId) = operation == QuotaOperation.EmbedContent ? ("embed_content", "EmbedContent") : ("generate_content", "Generate");
        var (quotaMetric, quotaId) = metric switch
        {
            RequestsPerMinute => ($"generativelanguage.googleapis.com/{op}_{snake}_requests", $"{opId}RequestsPerMinutePerProjectPerModel-{pascal}"),
            TokensPerMinute => ($"generativelanguage.googleapis.com/{op}_{snake}_input_token_count", $"{opId}InputTokensPerModelPerMinute-{pascal}"),
            _ => ($"generativelanguage.googleapis.com/{op}_{snake}_requests", $"{opId}RequestsPerDayPerProjectPerModel-{pascal}"),
        };
        var seconds = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));
        var message = "You exceeded your current quota, please check your plan and billing details. For more information on this error, " +
                      $"head to: {RateLimitsDoc}. To monitor your current usage, run: castor usage.\n" +
                      $"* Quota exceeded for metric: {quotaMetric}, limit: {limit}, model: {model}\n" +
                      $"Please retry in {wait.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s.";
        var description = $"Quota exceeded for metric: {quotaMetric}, limit: {limit}, model: {model}";
        return new CastorException(ErrorStatus.ResourceExhausted, message,
            new QuotaViolation(quotaMetric, quotaId, description)
            {
                Dimensions = new Dictionary<string, string> { ["location"] = "global", ["model"] = model },
                Value = limit,
            },
            new HelpLink("Learn more about Gemini API quotas", RateLimitsDoc),
            new RetryDelay(TimeSpan.FromSeconds(seconds)));
    }

    /// <summary>A tier's name as the API's metric names spell tiers: <c>free</c> → <c>free_tier</c> and <c>FreeTier</c>.</summary>
    internal static (string Snake, string Pascal) TierNames(string tier)
    {
        var words = tier.Split(['-', '_', ' ', '.'], StringSplitOptions.RemoveEmptyEntries).Select(w => w.ToLowerInvariant()).ToList();
        if (!words.Any(w => w.StartsWith("tier", StringComparison.Ordinal))) words.Add("tier");
        return (string.Join('_', words), string.Concat(words.Select(w => char.ToUpperInvariant(w[0]) + w[1..])));
    }
}
