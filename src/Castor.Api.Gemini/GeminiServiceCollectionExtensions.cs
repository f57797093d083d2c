using Castor.Api.Gemini.Apis;
using Castor.Application.Batches;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.Api.Gemini;

/// <summary>The services the Gemini adapter contributes to the application: its dialect of batch work.</summary>
public static class GeminiServiceCollectionExtensions
{
    public static IServiceCollection AddGeminiApi(this IServiceCollection services)
    {
        services.AddSingleton<GeminiBatchDialect>();
        services.AddSingleton<IBatchDialect>(sp => sp.GetRequiredService<GeminiBatchDialect>());
        return services;
    }
}
