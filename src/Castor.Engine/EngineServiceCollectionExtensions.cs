using Castor.Engine.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Castor.Engine;

public static class EngineServiceCollectionExtensions
{
    /// <summary>
    /// The engine's settings as <c>IOptions&lt;EngineOptions&gt;</c> (and <see cref="EngineOptions"/> itself), checked when
    /// the host starts; the messages name the settings as they are configured (<c>Castor:Threads</c>, <c>CASTOR_THREADS</c>, <c>--threads</c>).
    /// </summary>
    public static IServiceCollection AddCastorEngine(this IServiceCollection services, Action<EngineOptions> configure)
    {
        services.AddOptions<EngineOptions>()
            .Configure(configure)
            .Validate(o => o.Threads >= 0, "Threads must not be negative (0 means one logical processor fewer than the machine has).")
            .Validate(o => o.BatchThreads >= 0, "BatchThreads must not be negative (0 means Threads when set, else all logical processors).")
            .Validate(o => o.ContextSize >= 0, "ContextSize must not be negative (0 means the model's training context, at most 8192).")
            .Validate(o => o.Parallel >= 0, "Parallel must not be negative (0 means sized from the context).")
            .Validate(o => o.MaxQueue >= 0, "MaxQueue must not be negative.")
            .Validate(o => o.BatchSize > 0, "BatchSize must be positive.")
            .Validate(o => o.GpuLayers >= 0, "GpuLayers must not be negative.")
            .Validate(o => o.GrammarStepTimeout > TimeSpan.Zero, "Limits:GrammarStepTimeout must not be negative (0 means the default, 5 s).")
            .ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<EngineOptions>>().Value);
        return services;
    }
}
