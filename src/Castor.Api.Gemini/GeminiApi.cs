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
            // One route dispatches every custom method (a model id may hold colons); the document shows each as its own operation.
            group.MapPost("/models/{**nameAndMethod}", DispatchAsync).LimitedAsModelRequest()
                .DescribedAs(ModelMethods.Select(m => m.Operation).ToList());
            group.MapGet("/batches", BatchesApi.ListAsync).Produces<Wire.ListBatchOperationsResponse>().WithSummary("batches.list: the project's batch jobs, as Operations.");
            group.MapGet("/batches/{**name}", BatchesApi.GetAsync).Produces<Wire.BatchOperation>().WithSummary("batches.get: one batch job, with its inline responses once done.");
            group.MapPost("/batches/{**nameAndMethod}", BatchesApi.PostAsync)
                .DescribedAs([new("{batch}:cancel", "batches.cancel: stops a batch job; requests not yet run are not run.", null, typeof(Wire.EmptyResponse))]);
            group.MapDelete("/batches/{**name}", BatchesApi.DeleteAsync).Produces<Wire.EmptyResponse>().WithSummary("batches.delete: forgets a batch job and its results.");
            group.MapGet("/files", FilesApi.ListAsync).Produces<Wire.ListFilesResponse>().WithSummary("files.list");
            group.MapGet("/files/{**name}", FilesApi.GetAsync).DescribedAs(
            [
                new("{name}", "files.get: a file's metadata.", null, typeof(Wire.FileResource)),
                new("{name}:download", "files.download: a file's bytes (also files/{name}?alt=media).", null, typeof(byte[])) { ResponseMediaType = "application/octet-stream" },
            ]);
            group.MapDelete("/files/{**name}", FilesApi.DeleteAsync).Produces<Wire.EmptyResponse>().WithSummary("files.delete");
            group.MapPost("/cachedContents", CachedContentsApi.CreateAsync).ReadsBody(typeof(Wire.CachedContentResource))
                .Produces<Wire.CachedContentResource>().WithSummary("cachedContents.create");
            group.MapGet("/cachedContents", CachedContentsApi.ListAsync).Produces<Wire.ListCachedContentsResponse>().WithSummary("cachedContents.list");
            group.MapGet("/cachedContents/{**name}", CachedContentsApi.GetAsync).Produces<Wire.CachedContentResource>().WithSummary("cachedContents.get");
            group.MapPatch("/cachedContents/{**name}", CachedContentsApi.UpdateAsync).ReadsBody(typeof(Wire.CachedContentResource))
                .Produces<Wire.CachedContentResource>().WithSummary("cachedContents.patch: a new ttl or expireTime (?updateMask=ttl).");
            group.MapDelete("/cachedContents/{**name}", CachedContentsApi.DeleteAsync).Produces<Wire.EmptyResponse>().WithSummary("cachedContents.delete");
            // Ephemeral tokens for the Live API: v1alpha as the docs say, v1beta where the SDK's default client goes.
            if (version != "v1")
                group.MapPost("/auth_tokens", AuthTokensApi.CreateAsync).ReadsBody(typeof(Wire.AuthTokenResource)).Produces<Wire.AuthTokenResource>()
                    .WithSummary("authTokens.create: an ephemeral token for the Live API.");
            if (version == "v1beta")
            {
                group.MapUsageAdminApi();
                group.MapProjectsAdminApi();
            }
            // Uploads stream to disk: they bypass RequestBody's 20 MB JSON limit.
            upload.MapPost($"/{version}/files", UploadApi.HandleAsync).ReadsBody(typeof(Wire.CreateFileRequest)).Produces<Wire.CreateFileResponse>()
                .WithSummary("media.upload: a file, multipart or resumable (X-Goog-Upload-Protocol); the JSON body is the resumable start's metadata.");
        }
        return routes;
    }

    /// <summary>A custom method of models: what the API's description says of it, and its handler.</summary>
    private sealed record ModelMethod(string Name, DescribedOperation Operation, Func<HttpContext, string, IGenerationService, Task> HandleAsync)
    {
        public ModelMethod(string name, string summary, Type request, Type response, Func<HttpContext, string, IGenerationService, Task> handle, bool streams = false)
            : this(name, new DescribedOperation("{model}:" + name, $"models.{name}: {summary}", request, response) { Streams = streams }, handle)
        {
        }
    }

    /// <summary>The custom methods <c>models/{model}:{method}</c> dispatches to; the OpenAPI document describes each from here.</summary>
    private static readonly ModelMethod[] ModelMethods =
    [
        new("generateContent", "a model's answer to the contents.", typeof(Wire.GenerateContentRequest), typeof(Wire.GenerateContentResponse),
            (context, model, generation) => GenerateContentApi.GenerateAsync(context, model, generation)),
        new("streamGenerateContent", "the answer as it is generated: Server-Sent Events with ?alt=sse, else one JSON array of the chunks.",
            typeof(Wire.GenerateContentRequest), typeof(Wire.GenerateContentResponse),
            (context, model, generation) => GenerateContentApi.StreamAsync(context, model, generation), streams: true),
        new("countTokens", "the tokens the contents (or a whole generateContentRequest) take.", typeof(Wire.CountTokensRequest), typeof(Wire.CountTokensResponse),
            async (context, model, generation) => await (await GenerateContentApi.CountTokensAsync(context, model, generation)).ExecuteAsync(context)),
        new("embedContent", "an embedding of the content.", typeof(Wire.EmbedContentRequest), typeof(Wire.EmbedContentResponse),
            (context, model, _) => EmbeddingsApi.EmbedContentAsync(context, model)),
        new("batchEmbedContents", "embeddings of several contents in one call.", typeof(Wire.BatchEmbedContentsRequest), typeof(Wire.BatchEmbedContentsResponse),
            (context, model, _) => EmbeddingsApi.BatchEmbedContentsAsync(context, model)),
        new("batchGenerateContent", "a batch job of generateContent requests (inline or from a file), answered as an Operation.",
            typeof(Wire.CreateBatchRequest), typeof(Wire.BatchOperation),
            (context, model, _) => BatchesApi.CreateAsync(context, model, BatchKind.GenerateContent)),
        new("asyncBatchEmbedContent", "a batch job of embedContent requests, answered as an Operation.", typeof(Wire.CreateBatchRequest), typeof(Wire.BatchOperation),
            (context, model, _) => BatchesApi.CreateAsync(context, model, BatchKind.EmbedContent)),
    ];

    /// <summary>Custom methods are <c>models/{model}:{method}</c>; the model id may itself contain colons, so split at the last one.</summary>
    private static async Task DispatchAsync(HttpContext context, string nameAndMethod, IGenerationService generation)
    {
        var colon = nameAndMethod.LastIndexOf(':');
        if (colon <= 0)
            throw CastorException.NotFound($"POST models/{nameAndMethod} is not a method. Use models/{{model}}:generateContent, :streamGenerateContent or :countTokens.");
        var model = nameAndMethod[..colon];
        var method = nameAndMethod[(colon + 1)..];
        using var metered = Castor.Application.Metering.UsageContext.Begin(method);
        var handler = Array.Find(ModelMethods, m => m.Name == method)
            ?? throw CastorException.NotFound($"models/{model} is not found for API version v1beta, or is not supported for {method}. " +
                                              "Call ListModels to see the list of available models and their supported methods.");
        await handler.HandleAsync(context, model, generation);
    }
}
