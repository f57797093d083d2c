namespace Castor.Application.Quotas;

/// <summary>
/// The <c>Quotas</c> section: usage tiers and their per-model limits. With no tier configured nothing is limited and no
/// limiter is installed at all. A project without a tier of its own (<c>castor projects set-tier</c>) is in
/// <see cref="DefaultTier"/>; with no default tier such projects are unlimited.
/// </summary>
public sealed class QuotaOptions
{
    /// <summary>Tier name → model (a local model id, or a name a request may use such as a Gemini alias, or <c>*</c> for every other model) → limits.</summary>
    public Dictionary<string, Dictionary<string, QuotaLimits>> Tiers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The tier of projects that have none of their own; null or empty: such projects are unlimited.</summary>
    public string? DefaultTier { get; set; }

    /// <summary>
    /// The length of the API's "per minute" window. One minute, as the API defines it; other values exist only so
    /// out-of-process tests (the SDK conformance tests) can watch a client wait for <c>retryDelay</c> and succeed
    /// without waiting a whole minute. Not for production use.
    /// </summary>
    public TimeSpan MinuteWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long an open Live session's hold on a concurrent-sessions slot lasts unless its node renews it (it renews it
    /// every third of this while the session is open): how long a crashed node's sessions keep their slots.
    /// </summary>
    public TimeSpan LiveSessionLease { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Whether any tier is configured (otherwise no limiter is installed).</summary>
    public bool Enabled => Tiers.Count > 0;

    /// <summary>
    /// The limits of <paramref name="tier"/> for a model: the entry for its local id, else for the name the request
    /// used (a Gemini alias of it), else <c>*</c>; null when the tier is unknown or names none of them.
    /// </summary>
    public QuotaLimits? LimitsFor(string tier, string modelId, string requestedModel)
    {
        if (!Tiers.TryGetValue(tier, out var models)) return null;
        if (models.TryGetValue(modelId, out var limits)) return limits;
        if (models.TryGetValue(requestedModel, out limits)) return limits;
        return models.GetValueOrDefault("*");
    }
}
