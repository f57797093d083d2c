using Castor.Application.Embeddings;
using Castor.Application.Generation;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.Application.Quotas;

public static class QuotaServiceCollectionExtensions
{
    /// <summary>
    /// Projects' tiers and, when <paramref name="options"/> configures any tier, the rate limiter around the generation
    /// and embedding services registered so far (whatever wraps them already stays inside). With no tier configured the
    /// services are left as they are: the limiter costs nothing. Needs <c>IQuotaCounterStore</c> and <c>IProjectStore</c>.
    /// </summary>
    public static IServiceCollection AddCastorQuotas(this IServiceCollection services, QuotaOptions options)
    {
        services.AddSingleton(options);
        services.AddOptions<QuotaOptions>().ValidateOnStart()
            .Validate(o => o.MinuteWindow >= TimeSpan.FromSeconds(1), "Quotas:MinuteWindow must be at least one second.")
            .Validate(o => string.IsNullOrEmpty(o.DefaultTier) || o.Tiers.ContainsKey(o.DefaultTier),
                "Quotas:DefaultTier must name a tier in Quotas:Tiers.")
            .Validate(o => o.Tiers.Values.SelectMany(m => m.Values).All(l => l.Rpm >= 0 && l.Tpm >= 0 && l.Rpd >= 0 && l.BatchEnqueuedTokens >= 0 && l.Sessions >= 0),
                "Quotas:Tiers limits (Rpm, Tpm, Rpd, BatchEnqueuedTokens, Sessions) must not be negative (0 means no limit).")
            .Validate(o => o.LiveSessionLease >= TimeSpan.FromSeconds(1), "Quotas:LiveSessionLease must be at least one second.");
        services.AddSingleton<ProjectService>();
        if (!options.Enabled) return services;

        services.AddSingleton<QuotaLimiter>();
        services.AddSingleton<LiveSessionQuota>();
        ServiceDecoration.Decorate<IGenerationService>(services, (sp, inner) => new QuotaGenerationService(inner, sp.GetRequiredService<QuotaLimiter>(),
            sp.GetRequiredService<Models.ModelCatalogue>()));
        ServiceDecoration.Decorate<IEmbeddingService>(services, (sp, inner) => new QuotaEmbeddingService(inner, sp.GetRequiredService<QuotaLimiter>(),
            sp.GetRequiredService<Models.ModelCatalogue>()));
        return services;
    }
}
