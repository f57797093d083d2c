using System.Text.Json;
using Castor.Api.Gemini.Wire;
using Castor.Application.Embeddings;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.Api.Gemini.Apis;

/// <summary><c>:embedContent</c> and <c>:batchEmbedContents</c>. Translation only; the rules live in <see cref="EmbeddingService"/>.</summary>
internal static class EmbeddingsApi
{
    public static async Task EmbedContentAsync(HttpContext context, string model)
    {
        var embeddings = context.RequestServices.GetRequiredService<IEmbeddingService>();
        var wire = await RequestBody.ReadAsync(context.Request, GeminiJson.TypeInfo<EmbedContentRequest>()).ConfigureAwait(false);
        var result = await embeddings.EmbedContentAsync(context.Caller(), model, ToRequest(wire, ""), null, context.RequestAborted).ConfigureAwait(false);
        // ai-sdk's embed validates exactly this shape: {embedding:{values:number[]}}.
        await WriteAsync(context, new EmbedContentResponse
        {
            Embedding = new ContentEmbedding { Values = result.Embeddings[0] },
            UsageMetadata = new EmbeddingUsageMetadata { PromptTokenCount = result.PromptTokenCount },
        }).ConfigureAwait(false);
    }

    public static async Task BatchEmbedContentsAsync(HttpContext context, string model)
    {
        var embeddings = context.RequestServices.GetRequiredService<IEmbeddingService>();
        var wire = await RequestBody.ReadAsync(context.Request, GeminiJson.TypeInfo<BatchEmbedContentsRequest>()).ConfigureAwait(false);
        var requests = wire.Requests?.Select((r, i) => r is null ? null : ToRequest(r, $"requests[{i}].")).ToList();
        var result = await embeddings.BatchEmbedContentsAsync(context.Caller(), model, requests, null, context.RequestAborted).ConfigureAwait(false);
        // @google/genai reads only embeddings[] (and calls this method even for one text).
        await WriteAsync(context, new BatchEmbedContentsResponse
        {
            Embeddings = result.Embeddings.Select(v => new ContentEmbedding { Values = v }).ToList(),
            UsageMetadata = new EmbeddingUsageMetadata { PromptTokenCount = result.PromptTokenCount },
        }).ConfigureAwait(false);
    }

    /// <summary>The deprecated top-level fields and embedContentConfig mean the same; the config's value wins when both are set.</summary>
    internal static EmbeddingRequest ToRequest(EmbedContentRequest wire, string path)
    {
        var config = wire.EmbedContentConfig;
        return new EmbeddingRequest
        {
            Model = wire.Model,
            Content = wire.Content is null ? null : GeminiMapping.ToContent(wire.Content, path + "content"),
            TaskType = config?.TaskType ?? wire.TaskType,
            Title = config?.Title ?? wire.Title,
            OutputDimensionality = config?.OutputDimensionality ?? wire.OutputDimensionality,
            AutoTruncate = config?.AutoTruncate,
        };
    }

    private static async Task WriteAsync<T>(HttpContext context, T response)
    {
        context.Response.ContentType = "application/json; charset=UTF-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, response, GeminiJson.TypeInfo<T>(), context.RequestAborted).ConfigureAwait(false);
    }
}
