using System.Security.Cryptography;
using System.Text.Json;
using Castor.Api.Gemini.Infrastructure;
using Castor.Api.Gemini.Wire;
using Castor.Application.Batches;
using Castor.Application.Embeddings;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Engine.Scheduling;
using Castor.Storage.Batches;

namespace Castor.Api.Gemini.Apis;

/// <summary>
/// The Gemini wire for batch work: requests are <c>GenerateContentRequest</c> or <c>EmbedContentRequest</c> JSON, file
/// lines are <c>{"key", "request"}</c>, results are the online call's response or a <c>google.rpc.Status</c>, and
/// output lines are <c>{"key", "response"}</c> or <c>{"key", "error"}</c>.
/// </summary>
internal sealed class GeminiBatchDialect(IGenerationService generation, IEmbeddingService embeddings) : IBatchDialect
{
    public const string DialectName = "gemini";

    public string Name => DialectName;

    public NewBatchRequest ParseLine(BatchKind kind, string model, string line, long lineNumber)
    {
        string? key = null;
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return Invalid(null, $"line {lineNumber} is not a JSON object; each line is {{\"key\": …, \"request\": {{…}}}}.");
            if (root.TryGetProperty("key", out var keyElement))
                key = keyElement.ValueKind == JsonValueKind.String ? keyElement.GetString() : keyElement.GetRawText();
            if (!root.TryGetProperty("request", out var request) || request.ValueKind != JsonValueKind.Object)
                return Invalid(key, $"line {lineNumber} has no request object; each line is {{\"key\": …, \"request\": {{…}}}}.");
            return Validate(kind, model, request, key, null, $"line {lineNumber}: ");
        }
        catch (JsonException ex)
        {
            return Invalid(key, $"line {lineNumber} is not valid JSON: {ex.Message}");
        }
    }

    /// <summary>
    /// Checks a request the way the online call reads it (its JSON shape, field types, enum values and contents) and
    /// keeps it as sent; an invalid one becomes a failed request carrying its error.
    /// </summary>
    public NewBatchRequest Validate(BatchKind kind, string model, JsonElement request, string? key, string? metadata, string where)
    {
        var json = request.GetRawText();
        try
        {
            if (kind == BatchKind.EmbedContent)
            {
                var wire = JsonSerializer.Deserialize(json, GeminiJson.TypeInfo<EmbedContentRequest>())!;
                var mapped = EmbeddingsApi.ToRequest(wire, "");
                if (mapped.Content is null)
                    throw CastorException.InvalidField("content", "content is not specified.");
            }
            else
            {
                var wire = JsonSerializer.Deserialize(json, GeminiJson.TypeInfo<GenerateContentRequest>())!;
                GenerationService.Validate(GeminiMapping.ToGenerationRequest(model, wire));
            }
            return new NewBatchRequest(key, metadata, json, null);
        }
        catch (JsonException ex)
        {
            return new NewBatchRequest(key, metadata, null, ErrorJson(CastorException.InvalidArgument(where + "the request is not valid: " + ex.Message)));
        }
        catch (CastorException ex)
        {
            return new NewBatchRequest(key, metadata, null, ErrorJson(new CastorException(ex.Status, where + ex.Message, [.. ex.Details])));
        }
    }

    public GenerationRequest? ToGenerationRequest(BatchKind kind, string model, string request) => kind == BatchKind.EmbedContent ? null
        : GeminiMapping.ToGenerationRequest(model, JsonSerializer.Deserialize(request, GeminiJson.TypeInfo<GenerateContentRequest>())!) with { Priority = EnginePriority.Batch };

    public async Task<BatchRequestResult> RunAsync(Caller caller, BatchKind kind, string model, string request, CancellationToken cancellationToken)
    {
        if (kind == BatchKind.EmbedContent)
        {
            var wire = JsonSerializer.Deserialize(request, GeminiJson.TypeInfo<EmbedContentRequest>())!;
            var result = await embeddings.EmbedContentAsync(caller, model, EmbeddingsApi.ToRequest(wire, ""), null, cancellationToken).ConfigureAwait(false);
            var response = new EmbedContentResponse
            {
                Embedding = new ContentEmbedding { Values = result.Embeddings[0] },
                UsageMetadata = new EmbeddingUsageMetadata { PromptTokenCount = result.PromptTokenCount },
            };
            return new BatchRequestResult(true, JsonSerializer.Serialize(response, GeminiJson.TypeInfo<EmbedContentResponse>()), result.PromptTokenCount, 0);
        }
        else
        {
            var wire = JsonSerializer.Deserialize(request, GeminiJson.TypeInfo<GenerateContentRequest>())!;
            var generate = GeminiMapping.ToGenerationRequest(model, wire) with { Priority = EnginePriority.Batch };
            var result = await generation.GenerateAsync(caller, generate, cancellationToken).ConfigureAwait(false);
            var response = new GenerateContentResponse
            {
                Candidates = result.Candidates.Select(c => GeminiMapping.ToCandidate(c.Index, c.Parts, c.FinishReason, c.Thought, c.Logprobs, average: true)).ToList(),
                UsageMetadata = GeminiMapping.ToUsage(result.Usage, final: true),
                ModelVersion = result.ModelVersion,
                ResponseId = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
            };
            return new BatchRequestResult(true, JsonSerializer.Serialize(response, GeminiJson.TypeInfo<GenerateContentResponse>()),
                result.Usage.PromptTokenCount, result.Usage.CandidatesTokenCount + result.Usage.ThoughtsTokenCount);
        }
    }

    /// <summary>The <c>google.rpc.Status</c> inside the API's error body.</summary>
    public string ErrorJson(CastorException error)
    {
        using var document = JsonDocument.Parse(GeminiErrors.ToJson(error));
        return document.RootElement.GetProperty("error").GetRawText();
    }

    public string OutputLine(BatchKind kind, StoredBatchRequest request)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (request.Key is not null) w.WriteString("key", request.Key);
            w.WritePropertyName(request.State == BatchRequestState.Succeeded ? "response" : "error");
            w.WriteRawValue(request.Result!, skipInputValidation: true);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private NewBatchRequest Invalid(string? key, string message) => new(key, null, null, ErrorJson(CastorException.InvalidArgument(message)));
}
