using System.Globalization;
using System.Text;
using System.Text.Json;
using Castor.Api.OpenAI.Infrastructure;
using Castor.Api.OpenAI.Wire;
using Castor.Application.Batches;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Engine.Scheduling;
using Castor.Storage.Batches;

namespace Castor.Api.OpenAI.Apis;

/// <summary>
/// OpenAI's wire for batch work: input lines are <c>{"custom_id", "method", "url", "body"}</c> with a chat completions
/// body (each names its own model), a result is the <c>response</c> object (<c>{"status_code", "body"}</c>), and an output
/// line is <c>{"id", "custom_id", "response", "error"}</c>.
/// </summary>
internal sealed class OpenAIBatchDialect(IGenerationService generation) : IBatchDialect
{
    public const string DialectName = "openai";
    public const string ChatCompletionsUrl = "/v1/chat/completions";

    public string Name => DialectName;

    public NewBatchRequest ParseLine(BatchKind kind, string model, string line, long lineNumber)
    {
        string? key = null;
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return Invalid(null, $"line {lineNumber} is not a JSON object; each line is {{\"custom_id\", \"method\", \"url\", \"body\"}}.");
            if (root.TryGetProperty("custom_id", out var id) && id.ValueKind == JsonValueKind.String) key = id.GetString();
            if (!root.TryGetProperty("url", out var url) || url.ValueKind != JsonValueKind.String || url.GetString() != ChatCompletionsUrl)
                return Invalid(key, $"line {lineNumber}: url must be {ChatCompletionsUrl}, the batch's endpoint.");
            if (!root.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.Object)
                return Invalid(key, $"line {lineNumber} has no body object.");
            var json = body.GetRawText();
            var wire = JsonSerializer.Deserialize(json, OpenAIJson.TypeInfo<ChatCompletionRequest>())!;
            var mapped = ChatMapping.ToGenerationRequest(wire);
            if (mapped.Stream) return Invalid(key, $"line {lineNumber}: stream is not available in a batch.");
            try
            {
                GenerationService.Validate(mapped.Request);
            }
            catch (CastorException error)
            {
                throw ChatMapping.ToOpenAINames(error, mapped.MessageOfContent);
            }
            return new NewBatchRequest(key, null, json, null);
        }
        catch (JsonException ex)
        {
            return Invalid(key, $"line {lineNumber} is not valid: {ex.Message}");
        }
        catch (CastorException ex)
        {
            return new NewBatchRequest(key, null, null, ErrorJson(new CastorException(ex.Status, $"line {lineNumber}: " + ex.Message, [.. ex.Details])));
        }
    }

    public GenerationRequest? ToGenerationRequest(BatchKind kind, string model, string request) =>
        ChatMapping.ToGenerationRequest(JsonSerializer.Deserialize(request, OpenAIJson.TypeInfo<ChatCompletionRequest>())!).Request with
        {
            Priority = EnginePriority.Batch,
        };

    public async Task<BatchRequestResult> RunAsync(Caller caller, BatchKind kind, string model, string request, CancellationToken cancellationToken)
    {
        var wire = JsonSerializer.Deserialize(request, OpenAIJson.TypeInfo<ChatCompletionRequest>())!;
        var mapped = ChatMapping.ToGenerationRequest(wire);
        mapped = mapped with { Request = mapped.Request with { Priority = EnginePriority.Batch } };
        GenerationStream stream;
        try
        {
            stream = await generation.StartAsync(caller, mapped.Request, cancellationToken).ConfigureAwait(false);
        }
        catch (CastorException error)
        {
            throw ChatMapping.ToOpenAINames(error, mapped.MessageOfContent);
        }
        var id = "chatcmpl-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
        var completion = await ChatCompletionsApi.CompleteAsync(stream, mapped, id, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), wire.Model!, cancellationToken)
            .ConfigureAwait(false);
        var body = JsonSerializer.Serialize(completion, OpenAIJson.TypeInfo<ChatCompletion>());
        return new BatchRequestResult(true, Response(200, body), completion.Usage?.PromptTokens ?? 0, completion.Usage?.CompletionTokens ?? 0);
    }

    /// <summary>The failed request's <c>response</c>: the status and error body the online call would have answered.</summary>
    public string ErrorJson(CastorException error) => Response(OpenAIErrors.HttpStatus(error), Encoding.UTF8.GetString(OpenAIErrors.ToJson(error)));

    public string OutputLine(BatchKind kind, StoredBatchRequest request)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("id", "batch_req_" + request.Position.ToString(CultureInfo.InvariantCulture));
            if (request.Key is null) w.WriteNull("custom_id"); else w.WriteString("custom_id", request.Key);
            w.WritePropertyName("response");
            w.WriteRawValue(request.Result!, skipInputValidation: true);
            w.WriteNull("error");
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static string Response(int status, string body) =>
        $"{{\"status_code\":{status.ToString(CultureInfo.InvariantCulture)},\"request_id\":null,\"body\":{body}}}";

    private NewBatchRequest Invalid(string? key, string message) => new(key, null, null, ErrorJson(CastorException.InvalidArgument(message)));
}
