using Castor.Application.Keys;
using Castor.Storage.Quotas;

namespace Castor.Application.Quotas;

/// <summary>Projects and their usage tiers (<c>castor projects create|list|set-tier</c>): a tier must be one <c>Quotas:Tiers</c> defines.</summary>
public sealed class ProjectService(IProjectStore store, QuotaOptions options, TimeProvider clock)
{
    /// <summary>Creates a project in <paramref name="tier"/> (null: the default tier). False when it exists already.</summary>
    public Task<bool> CreateAsync(string name, string? tier, CancellationToken cancellationToken = default)
    {
        ApiKeyService.ValidateProjectName(name);
        CheckTier(tier);
        return store.CreateProjectAsync(name, tier, clock.GetUtcNow(), cancellationToken);
    }

    public Task<IReadOnlyList<ProjectListing>> ListAsync(CancellationToken cancellationToken = default) => store.ListProjectsAsync(cancellationToken);

    /// <summary>Moves a project to <paramref name="tier"/> (null: back to the default tier). False when there is no such project.</summary>
    public Task<bool> SetTierAsync(string name, string? tier, CancellationToken cancellationToken = default)
    {
        CheckTier(tier);
        return store.SetTierAsync(name, tier, cancellationToken);
    }

    /// <summary>The tier a project is in, with the default applied: what its requests are limited by.</summary>
    public string? EffectiveTier(ProjectListing project) => project.Tier ?? (string.IsNullOrEmpty(options.DefaultTier) ? null : options.DefaultTier);

    private void CheckTier(string? tier)
    {
        if (tier is null || options.Tiers.ContainsKey(tier)) return;
        var known = options.Tiers.Count == 0 ? "none is configured" : "configured: " + string.Join(", ", options.Tiers.Keys.Order(StringComparer.Ordinal));
        throw new ArgumentException($"'{tier}' is not a tier in Quotas:Tiers ({known}).");
    }
}
