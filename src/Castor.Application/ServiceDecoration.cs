using Microsoft.Extensions.DependencyInjection;

namespace Castor.Application;

/// <summary>Wrapping a registered service in a decorator (rate limits, telemetry, metering), in the order the host calls them.</summary>
internal static class ServiceDecoration
{
    /// <summary>
    /// Replaces the last registration of <typeparamref name="T"/> with <paramref name="wrap"/> around what it produced,
    /// so decorators added later sit outside it.
    /// </summary>
    public static void Decorate<T>(IServiceCollection services, Func<IServiceProvider, T, T> wrap) where T : class
    {
        var index = -1;
        for (var i = services.Count - 1; i >= 0 && index < 0; i--)
            if (services[i].ServiceType == typeof(T) && !services[i].IsKeyedService) index = i;
        if (index < 0) throw new InvalidOperationException($"{typeof(T).Name} must be registered before it is wrapped.");
        var inner = services[index];
        services[index] = ServiceDescriptor.Singleton(sp => wrap(sp, Create<T>(sp, inner)));
    }

    private static T Create<T>(IServiceProvider sp, ServiceDescriptor descriptor) where T : class =>
        descriptor.ImplementationInstance as T
        ?? descriptor.ImplementationFactory?.Invoke(sp) as T
        ?? (T)ActivatorUtilities.CreateInstance(sp, descriptor.ImplementationType!);
}
