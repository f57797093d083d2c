using Castor.Application.Errors;
using Castor.Application.Keys;
using Castor.Storage.Quotas;

namespace Castor.Application.Quotas;

/// <summary>
/// Live sessions as the API's rate limits count them: a tier limits a project's concurrent sessions per model
/// (<see cref="QuotaLimits.Sessions"/>), and a session's start is the request that RPM and RPD count where a tier sets
/// them; its turns count their input tokens against TPM (<see cref="QuotaGenerationService"/>). Open sessions are
/// leases in the shared store, renewed while the session is open and released when it closes, so nodes sharing the
/// database together admit no more than the limit and a dead node's sessions free their slots when their leases expire.
/// </summary>
public sealed class LiveSessionQuota(QuotaLimiter limiter, ILiveSessionLeaseStore leases, TimeProvider clock)
{
    /// <summary>
    /// Admits a new session of the caller's project on <paramref name="modelId"/> (<paramref name="requestedModel"/> is
    /// the name the setup used), or throws 429 RESOURCE_EXHAUSTED. The returned slot is the session's hold on its place:
    /// dispose it when the session ends, however it ends. Null when no sessions limit applies.
    /// </summary>
    public async Task<LiveSessionSlot?> StartSessionAsync(Caller caller, string modelId, string requestedModel, CancellationToken cancellationToken)
    {
        var tier = await limiter.TierOfAsync(caller, cancellationToken).ConfigureAwait(false);
        if (tier is null || limiter.Options.LimitsFor(tier, modelId, requestedModel) is not { } limits) return null;
        LiveSessionSlot? slot = null;
        if (limits.Sessions > 0)
        {
            var lifetime = limiter.Options.LiveSessionLease;
            var now = clock.GetUtcNow();
            var lease = new LiveSessionLease(Guid.NewGuid().ToString("N"), caller.ProjectId, modelId, now + lifetime);
            if (!await leases.TryAcquireAsync(lease, limits.Sessions, now, cancellationToken).ConfigureAwait(false))
                throw SessionsExhausted(tier, limits.Sessions, modelId);
            slot = new LiveSessionSlot(leases, lease.Id, lifetime, clock);
        }
        try
        {
            if (limits.Rpm > 0 || limits.Rpd > 0)
                await limiter.AdmitAsync(caller, QuotaOperation.GenerateContent, modelId, requestedModel, 1, 0, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (slot is not null) await slot.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return slot;
    }

    /// <summary>The API's quota error for a session over the limit (the Live endpoint sends it as its close reason).</summary>
    private static CastorException SessionsExhausted(string tier, int limit, string model)
    {
        var (snake, pascal) = QuotaLimiter.TierNames(tier);
        var quotaMetric = $"generativelanguage.googleapis.com/bidi_generate_content_{snake}_concurrent_sessions";
        var description = $"Quota exceeded for metric: {quotaMetric}, limit: {limit}, model: {model}";
        return new CastorException(ErrorStatus.ResourceExhausted,
            "You exceeded your current quota, please check your plan and billing details. For more information on this error, " +
            $"head to: {QuotaLimiter.RateLimitsDoc}.\n* {description}\nThis project already has {limit} open Live sessions on this model; " +
            "close one, or retry when one has ended.",
            new QuotaViolation(quotaMetric, $"BidiGenerateContentConcurrentSessionsPerProjectPerModel-{pascal}", description)
            {
                Dimensions = new Dictionary<string, string> { ["location"] = "global", ["model"] = model },
                Value = limit,
            },
            new HelpLink("Learn more about Gemini API quotas", QuotaLimiter.RateLimitsDoc));
    }
}
