using Castor.Api.OpenAI.Apis;
using Castor.Application.Batches;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.Api.OpenAI;

/// <summary>The services the OpenAI adapter contributes to the application: its dialect of batch work.</summary>
public static class OpenAIServiceCollectionExtensions
{
    public static IServiceCollection AddOpenAIApi(this IServiceCollection services)
    {
        services.AddSingleton<OpenAIBatchDialect>();
        services.AddSingleton<IBatchDialect>(sp => sp.GetRequiredService<OpenAIBatchDialect>());
        return services;
    }
}
