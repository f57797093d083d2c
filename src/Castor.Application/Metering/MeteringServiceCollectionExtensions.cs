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
        Decorate<IGenerationService>(services, (sp, inner) => new MeteredGenerationService(inner, sp.GetRequiredService<UsageMeter>(), sp.GetRequiredService<TimeProvider>()));
        Decorate<IEmbeddingService>(services, (sp, inner) => new MeteredEmbeddingService(inner, sp.GetRequiredService<UsageMeter>(), sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    /// <summary>Replaces the last registration of <typeparamref name="T"/> with <paramref name="wrap"/> around it.</summary>
    private static void Decorate<T>(IServiceCollection services, Func<IServiceProvider, T, T> wrap) where T : class
    {
        var inner = services.LastOrDefault(d => d.ServiceType == typeof(T))
                    ?? throw new InvalidOperationException($"Register {typeof(T).Name} before adding usage metering.");
        services.Remove(inner);
        services.Add(ServiceDescriptor.Describe(typeof(T), sp => wrap(sp, Resolve<T>(sp, inner)), inner.Lifetime));
    }

    private static T Resolve<T>(IServiceProvider sp, ServiceDescriptor descriptor) where T : class =>
        (T)(descriptor.ImplementationInstance
            ?? descriptor.ImplementationFactory?.Invoke(sp)
            ?? ActivatorUtilities.CreateInstance(sp, descriptor.ImplementationType!));
}
