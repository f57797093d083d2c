using Castor.Application.Embeddings;
using Castor.Application.Generation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Castor.Application.Metering;

public static class MeteringServiceCollectionExtensions
{
    /// <summary>
    /// Usage metering: wraps the registered <see cref="IGenerationService"/> and <see cref="IEmbeddingService"/> (call it
    /// after they are registered; wrappers registered later sit outside it), and adds the <see cref="UsageMeter"/>, whose
    /// <see cref="UsageMeter.RunAsync"/> the host runs, and <see cref="UsageReports"/>. Needs an <c>IUsageStore</c>.
    /// </summary>
    public static IServiceCollection AddUsageMetering(this IServiceCollection services, Action<UsageOptions>? configure = null)
    {
        var options = services.AddOptions<UsageOptions>();
        if (configure is not null) options.Configure(configure);
        options.ValidateOnStart()
            .Validate(o => o.FlushInterval > TimeSpan.Zero, "Usage:FlushInterval must be positive.")
            .Validate(o => o.Prices.Values.All(p => p is not null && p.InputPerMillion >= 0 && p.OutputPerMillion >= 0 && p.CachedPerMillion is null or >= 0),
                "Usage:Prices:{model} prices must not be negative.");
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<UsageOptions>>().Value);
        services.AddSingleton<UsageMeter>();
        services.AddSingleton<UsageReports>();
        ServiceDecoration.Decorate<IGenerationService>(services, (sp, inner) => new MeteredGenerationService(inner, sp.GetRequiredService<UsageMeter>(), sp.GetRequiredService<TimeProvider>()));
        ServiceDecoration.Decorate<IEmbeddingService>(services, (sp, inner) => new MeteredEmbeddingService(inner, sp.GetRequiredService<UsageMeter>(), sp.GetRequiredService<TimeProvider>()));
        return services;
    }
}
