using Castor.Api.OpenAI.Apis;
using Castor.Api.OpenAI.Infrastructure;
using Castor.Api.OpenAI.Wire;
using Castor.Application.Embeddings;
using Castor.Application.Generation;
using Castor.Application.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Castor.Api.OpenAI;

/// <summary>
/// The OpenAI-compatible surface under <c>/v1beta/openai/</c>: chat completions, embeddings, models, and files and batches, on the same
/// keys, models and services as the native API. Keys arrive as <c>Authorization: Bearer</c>; errors leave in OpenAI's shape.
/// </summary>
public static class OpenAIApi
{
    public const string Prefix = "/v1beta/openai";

    /// <summary>The tag of this dialect's operations in the OpenAPI document.</summary>
    public const string OpenApiTag = "OpenAI-compatible API";

    public static IEndpointRouteBuilder MapOpenAIApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapApiGroup(Prefix, OpenAIErrors.Instance).WithTags(OpenApiTag);
        group.MapPost("/chat/completions", (HttpContext context, IGenerationService generation) => ChatCompletionsApi.HandleAsync(context, generation)).LimitedAsModelRequest()
            .ReadsBody(typeof(ChatCompletionRequest)).Produces<ChatCompletion>().WithSummary("Chat completions (stream: true answers Server-Sent Events).");
        group.MapPost("/embeddings", (HttpContext context, IEmbeddingService embeddings) => EmbeddingsApi.HandleAsync(context, embeddings)).LimitedAsModelRequest()
            .ReadsBody(typeof(EmbeddingsRequest)).Produces<EmbeddingList>().WithSummary("Embeddings of one input or several.");
        group.MapGet("/models", (ModelCatalogue catalogue) => ModelsApi.List(catalogue)).Produces<ModelList>().WithSummary("The models this server serves.");
        group.MapPost("/files", BatchesApi.UploadFileAsync).Produces<FileObject>()
            .WithSummary("Uploads a batch input file (multipart/form-data: file, purpose \"batch\").");
        group.MapGet("/files/{**rest}", BatchesApi.GetFileAsync).DescribedAs(
        [
            new("{file_id}", "A file's metadata.", null, typeof(FileObject)),
            new("{file_id}/content", "A file's bytes (a batch's output file: JSON Lines).", null, typeof(byte[])) { ResponseMediaType = "application/octet-stream" },
        ]);
        group.MapPost("/batches", BatchesApi.CreateAsync).ReadsBody(typeof(BatchCreateRequest)).Produces<BatchObject>()
            .WithSummary("Creates a batch of chat completions from an uploaded JSON Lines file.");
        group.MapGet("/batches/{**id}", BatchesApi.GetAsync).Produces<BatchObject>().WithSummary("One batch.");
        group.MapPost("/batches/{**rest}", BatchesApi.CancelAsync)
            .DescribedAs([new("{batch_id}/cancel", "Cancels a batch; requests not yet run are not run.", null, typeof(BatchObject))]);
        group.MapGet("/models/{**id}", (string id, ModelCatalogue catalogue) => ModelsApi.Get(id, catalogue)).Produces<ModelObject>().WithSummary("One model.");
        // The docs' context-caching sample points the OpenAI client at /v1beta/ itself, so chat and embeddings answer there
        // too (models cannot: /v1beta/models is the native list). Each is its own group, so only these two paths are OpenAI's.
        routes.MapApiGroup("/v1beta/chat/completions", OpenAIErrors.Instance).WithTags(OpenApiTag)
            .MapPost("", (HttpContext context, IGenerationService generation) => ChatCompletionsApi.HandleAsync(context, generation)).LimitedAsModelRequest()
            .ReadsBody(typeof(ChatCompletionRequest)).Produces<ChatCompletion>().WithSummary("Chat completions, also at the API's root (the docs' caching sample).");
        routes.MapApiGroup("/v1beta/embeddings", OpenAIErrors.Instance).WithTags(OpenApiTag)
            .MapPost("", (HttpContext context, IEmbeddingService embeddings) => EmbeddingsApi.HandleAsync(context, embeddings)).LimitedAsModelRequest()
            .ReadsBody(typeof(EmbeddingsRequest)).Produces<EmbeddingList>().WithSummary("Embeddings, also at the API's root (the docs' caching sample).");
        return routes;
    }
}
