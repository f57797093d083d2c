using Castor.Api.Gemini.Apis;
using Castor.Api.Gemini.Infrastructure;
using Castor.Application.Batches;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Castor.Api.Gemini;

public static class GeminiApi
{
    public static readonly IReadOnlyList<string> Versions = ["v1beta", "v1", "v1alpha"];

    /// <summary>The tag of this dialect's operations in the OpenAPI document.</summary>
    public const string OpenApiTag = "Gemini API";

    /// <summary>Maps models, generateContent, streamGenerateContent, countTokens, files, cachedContents and batches under /v1beta, /v1 and /v1alpha, and uploads under /upload/….</summary>
    public static IEndpointRouteBuilder MapGeminiApi(this IEndpointRouteBuilder routes)
    {
        // Resumable and multipart uploads; one group, so an unmatched /upload/... path is still this API's (key first).
        var upload = routes.MapApiGroup("/upload", GeminiErrors.Instance).WithTags(OpenApiTag);
        foreach (var version in Versions)
        {
            var group = routes.MapApiGroup("/" + version, GeminiErrors.Instance).WithTags(OpenApiTag);
            group.MapGet("/models", ModelsApi.List).Produces<Wire.ListModelsResponse>().WithSummary("models.list: the models this server serves.");
            group.MapGet("/models/{**name}", (string name, ModelCatalogue catalogue) =>
            {
                if (name.Contains(':'))
                    throw new CastorException(ErrorStatus.NotFound, $"GET is not supported for models/{name}; use POST.");
                return ModelsApi.Get(name, catalogue);
            }).Produces<Wire.Model>().WithSummary("models.get: one model (an id, an alias or a Gemini name).");
            group.MapPost("/models/{**nameAndMethod}", DispatchAsync).LimitedAsModelRequest()
                .ReadsBody(typeof(Wire.GenerateContentRequest)).Produces<Wire.GenerateContentResponse>()
                .WithSummary("models/{model}:{method}: generateContent, streamGenerateContent (?alt=sse), countTokens, embedContent, batchEmbedContents, batchGenerateContent, asyncBatchEmbedContent.")
                .WithDescription("The body and the answer are the method's: generateContent's are shown; streamGenerateContent answers a stream of GenerateContentResponse (Server-Sent Events with alt=sse).");
            group.MapGet("/batches", BatchesApi.ListAsync).WithSummary("batches.list");
            group.MapGet("/batches/{**name}", BatchesApi.GetAsync);
            group.MapPost("/batches/{**nameAndMethod}", BatchesApi.PostAsync);
            group.MapDelete("/batches/{**name}", BatchesApi.DeleteAsync);
            group.MapGet("/files", FilesApi.ListAsync).WithSummary("files.list");
            group.MapGet("/files/{**name}", FilesApi.GetAsync);
            group.MapDelete("/files/{**name}", FilesApi.DeleteAsync);
            group.MapPost("/cachedContents", CachedContentsApi.CreateAsync).WithSummary("cachedContents.create");
            group.MapGet("/cachedContents", CachedContentsApi.ListAsync);
            group.MapGet("/cachedContents/{**name}", CachedContentsApi.GetAsync);
            group.MapPatch("/cachedContents/{**name}", CachedContentsApi.UpdateAsync);
            group.MapDelete("/cachedContents/{**name}", CachedContentsApi.DeleteAsync);
            // Ephemeral tokens for the Live API: v1alpha as the docs say, v1beta where the SDK's default client goes.
            if (version != "v1") group.MapPost("/auth_tokens", AuthTokensApi.CreateAsync);
            if (version == "v1beta")
            {
                group.MapUsageAdminApi();
                group.MapProjectsAdminApi();
            }
            // Uploads stream to disk: they bypass RequestBody's 20 MB JSON limit.
            upload.MapPost($"/{version}/files", UploadApi.HandleAsync);
        }
        return routes;
    }

    /// <summary>Custom methods are <c>models/{model}:{method}</c>; the model id may itself contain colons, so split at the last one.</summary>
    private static async Task DispatchAsync(HttpContext context, string nameAndMethod, IGenerationService generation)
    {
        var colon = nameAndMethod.LastIndexOf(':');
        if (colon <= 0)
            throw CastorException.NotFound($"POST models/{nameAndMethod} is not a method. Use models/{{model}}:generateContent, :streamGenerateContent or :countTokens.");
        var model = nameAndMethod[..colon];
        var method = nameAndMethod[(colon + 1)..];
        using var metered = Castor.Application.Metering.UsageContext.Begin(method);
        switch (method)
        {
            case "generateContent":
                await GenerateContentApi.GenerateAsync(context, model, generation);
                break;
            case "streamGenerateContent":
                await GenerateContentApi.StreamAsync(context, model, generation);
                break;
            case "countTokens":
                await (await GenerateContentApi.CountTokensAsync(context, model, generation)).ExecuteAsync(context);
                break;
            case "embedContent":
                await EmbeddingsApi.EmbedContentAsync(context, model);
                break;
            case "batchEmbedContents":
                await EmbeddingsApi.BatchEmbedContentsAsync(context, model);
                break;
            case "batchGenerateContent":
                await BatchesApi.CreateAsync(context, model, BatchKind.GenerateContent);
                break;
            case "asyncBatchEmbedContent":
                await BatchesApi.CreateAsync(context, model, BatchKind.EmbedContent);
                break;
            default:
                throw CastorException.NotFound($"models/{model} is not found for API version v1beta, or is not supported for {method}. " +
                                               "Call ListModels to see the list of available models and their supported methods.");
        }
    }
}
