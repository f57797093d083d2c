using Castor.Api.Gemini.Infrastructure;
using Castor.Api.OpenAI.Apis;
using Castor.Api.OpenAI.Infrastructure;
using Castor.Application.Embeddings;
using Castor.Application.Generation;
using Castor.Application.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.Api.OpenAI;

/// <summary>
/// The OpenAI-compatible surface under <c>/v1beta/openai/</c>: chat completions, embeddings and models, on the same
/// keys, models and services as the native API. Keys arrive as <c>Authorization: Bearer</c>; errors leave in OpenAI's shape.
/// </summary>
public static class OpenAIApi
{
    public const string Prefix = "/v1beta/openai";

    public static IServiceCollection AddOpenAIApi(this IServiceCollection services) =>
        services.AddSingleton<IErrorShape, OpenAIErrors>();

    // The docs' context-caching sample points the OpenAI client at /v1beta/ itself, so chat and embeddings answer there
    // too (models cannot: /v1beta/models is the native list).
    private static readonly string[] BarePaths = ["/v1beta/chat/completions", "/v1beta/embeddings"];

    public static IEndpointRouteBuilder MapOpenAIApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(Prefix);
        group.MapPost("/chat/completions", (HttpContext context, IGenerationService generation) => ChatCompletionsApi.HandleAsync(context, generation)).LimitedAsModelRequest();
        group.MapPost("/embeddings", (HttpContext context, IEmbeddingService embeddings) => EmbeddingsApi.HandleAsync(context, embeddings)).LimitedAsModelRequest();
        group.MapGet("/models", (ModelCatalogue catalogue) => ModelsApi.List(catalogue));
        group.MapGet("/models/{**id}", (string id, ModelCatalogue catalogue) => ModelsApi.Get(id, catalogue));
        routes.MapPost(BarePaths[0], (HttpContext context, IGenerationService generation) => ChatCompletionsApi.HandleAsync(context, generation)).LimitedAsModelRequest();
        routes.MapPost(BarePaths[1], (HttpContext context, IEmbeddingService embeddings) => EmbeddingsApi.HandleAsync(context, embeddings)).LimitedAsModelRequest();
        return routes;
    }

    internal static bool IsOpenAIPath(PathString path) =>
        path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase) ||
        BarePaths.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase));
}
