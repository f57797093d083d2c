using Castor.Application.Embeddings;
using Castor.Application.Generation;
using Castor.Application.Models;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.Application.Telemetry;

public static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// Metrics and spans (<see cref="InstrumentedGenerationService"/>, <see cref="InstrumentedEmbeddingService"/>) around the
    /// generation and embedding services registered so far: whatever wraps them already (the rate limiter) is measured
    /// too, so a request it refuses is counted, with its error.type, like any failed request. With no listener each
    /// instrument costs a flag check.
    /// </summary>
    public static IServiceCollection AddRequestTelemetry(this IServiceCollection services)
    {
        ServiceDecoration.Decorate<IGenerationService>(services, (sp, inner) => new InstrumentedGenerationService(inner, sp.GetService<ModelCatalogue>()));
        ServiceDecoration.Decorate<IEmbeddingService>(services, (sp, inner) => new InstrumentedEmbeddingService(inner, sp.GetService<ModelCatalogue>()));
        return services;
    }
}
