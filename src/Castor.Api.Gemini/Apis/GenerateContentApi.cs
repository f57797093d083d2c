using System.Security.Cryptography;
using System.Text.Json;
using Castor.Application.Generation;
using Castor.Api.Gemini.Infrastructure;
using Castor.Api.Gemini.Wire;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.Gemini.Apis;

/// <summary><c>:generateContent</c>, <c>:streamGenerateContent</c> and <c>:countTokens</c>.</summary>
internal static class GenerateContentApi
{
    public static async Task GenerateAsync(HttpContext context, string model, IGenerationService generation)
    {
        var wire = await RequestBody.ReadAsync(context.Request, GeminiJson.TypeInfo<GenerateContentRequest>()).ConfigureAwait(false);
        var result = await generation.GenerateAsync(context.Caller(), ToRequest(model, wire), context.RequestAborted).ConfigureAwait(false);
        var response = new GenerateContentResponse
        {
            Candidates = result.Candidates.Select(c => GeminiMapping.ToCandidate(c.Index, c.Parts, c.FinishReason, c.Thought, c.Logprobs, average: true)).ToList(),
            UsageMetadata = GeminiMapping.ToUsage(result.Usage, final: true),
            ModelVersion = result.ModelVersion,
            ResponseId = NewResponseId(),
        };
        context.Response.ContentType = "application/json; charset=UTF-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, response, GeminiJson.TypeInfo<GenerateContentResponse>(), context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// Streams with Server-Sent Events when <c>alt=sse</c> (what every SDK asks for), otherwise as one JSON array
    /// written element by element, as the API does. Errors after the first byte go out in-band as an error object.
    /// </summary>
    public static async Task StreamAsync(HttpContext context, string model, IGenerationService generation)
    {
        var wire = await RequestBody.ReadAsync(context.Request, GeminiJson.TypeInfo<GenerateContentRequest>()).ConfigureAwait(false);
        var aborted = context.RequestAborted;
        var stream = await generation.StartAsync(context.Caller(), ToRequest(model, wire), aborted).ConfigureAwait(false);
        var sse = string.Equals(context.Request.Query["alt"], "sse", StringComparison.OrdinalIgnoreCase);
        var responseId = NewResponseId();

        // The request is valid and queued: the status line and headers go out now; from here on errors go out in-band.
        // Without alt=sse the stream is one JSON array sent piece by piece, with the same headers.
        await ServerSentEvents.StartAsync(context.Response, sse ? ServerSentEvents.ContentType : "application/json; charset=UTF-8", aborted).ConfigureAwait(false);
        var body = context.Response.Body;
        using var output = new ResponseStreamWriter(context.Response.BodyWriter);

        var first = true;
        try
        {
            var updates = stream.ReadAllAsync(aborted).GetAsyncEnumerator(aborted);
            try
            {
                // Until the first update (the queue, then the prompt's prefill) the body would stay silent.
                var more = await StreamKeepAlive.AwaitAsync(updates.MoveNextAsync(), body, StreamKeepAlive.Interval, aborted).ConfigureAwait(false);
                for (; more; more = await output.MoveNextAsync(updates, aborted).ConfigureAwait(false))
                {
                    var update = updates.Current;
                    var chunk = new GenerateContentResponse
                    {
                        Candidates = [GeminiMapping.ToCandidate(update.CandidateIndex, update.Parts, update.FinishReason, update.Thought, update.Logprobs)],
                        UsageMetadata = GeminiMapping.ToUsage(update.Usage, final: update.FinishReason is not null),
                        ModelVersion = stream.ModelVersion,
                        ResponseId = responseId,
                    };
                    if (sse)
                    {
                        // Google's servers end SSE events with CRLF CRLF; every client in wire-contract.md accepts it.
                        output.WriteEvent(chunk, GeminiJson.TypeInfo<GenerateContentResponse>(), ServerSentEvents.CrLfCrLf.Span);
                    }
                    else
                    {
                        output.Write(first ? "["u8 : ",\r\n"u8);
                        output.WriteJson(chunk, GeminiJson.TypeInfo<GenerateContentResponse>());
                    }
                    first = false;
                }
            }
            finally
            {
                await updates.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (RequestDeadline.InBand(context, ex) is { Error: { } error } inBand)
        {
            // An API error, or the request deadline: the status is sent, so the error goes out as the stream's last element.
            ApiErrors.Record(context, error);
            aborted = inBand.WriteToken;
            var json = GeminiErrors.ToJson(error);
            if (sse)
            {
                output.WriteEvent(json, ServerSentEvents.CrLfCrLf.Span);
            }
            else
            {
                output.Write(first ? "["u8 : ",\r\n"u8);
                output.Write(json);
            }
            first = false;
        }

        if (!sse)
            output.Write(first ? "[]"u8 : "]"u8);
        await output.FlushAsync(aborted).ConfigureAwait(false);
    }

    public static async Task<IResult> CountTokensAsync(HttpContext context, string model, IGenerationService generation)
    {
        var wire = await RequestBody.ReadAsync(context.Request, GeminiJson.TypeInfo<CountTokensRequest>()).ConfigureAwait(false);
        // A whole request counts the way generateContent would see it, its own model name included.
        var request = wire.GenerateContentRequest is { } inner
            ? ToRequest(inner.Model ?? model, inner)
            : new GenerationRequest { Model = model, Contents = GeminiMapping.ToContents(wire.Contents, "contents") };
        var counts = await generation.CountPromptTokensAsync(context.Caller(), request, context.RequestAborted).ConfigureAwait(false);
        return Results.Json(new CountTokensResponse
        {
            TotalTokens = counts.Total,
            PromptTokensDetails = GeminiMapping.ToDetails(counts),
        }, GeminiJson.TypeInfo<CountTokensResponse>());
    }

    private static GenerationRequest ToRequest(string model, GenerateContentRequest wire) =>
        GeminiMapping.ToGenerationRequest(model, wire);

    private static string NewResponseId() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
