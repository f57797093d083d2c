using System.Globalization;
using System.Text.Json;
using Castor.Api.Gemini.Wire;
using Castor.Application.Batches;
using Castor.Application.Errors;
using Castor.Storage.Batches;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.Api.Gemini.Apis;

/// <summary>
/// <c>:batchGenerateContent</c>, <c>:asyncBatchEmbedContent</c> and <c>batches/*</c> (get, list, cancel, delete).
/// Jobs are answered as long-running Operations, the shape <c>@google/genai</c> parses: <c>name</c>, <c>metadata</c> (the
/// batch, with <c>@type</c>) and, once the job ended, <c>done</c> with the output in <c>metadata.output</c>.
/// </summary>
internal static class BatchesApi
{
    private const string GenerateType = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch";
    private const string EmbedType = "type.googleapis.com/google.ai.generativelanguage.v1main.EmbedContentBatch";

    public static async Task CreateAsync(HttpContext context, string model, BatchKind kind)
    {
        var batches = context.RequestServices.GetRequiredService<BatchService>();
        var dialect = context.RequestServices.GetRequiredService<GeminiBatchDialect>();
        var wire = await RequestBody.ReadAsync(context.Request, GeminiJson.TypeInfo<CreateBatchRequest>()).ConfigureAwait(false);
        var batch = wire.Batch ?? throw CastorException.InvalidField("batch", "batch is not specified.");
        var input = batch.InputConfig ?? throw CastorException.InvalidField("batch.inputConfig", "inputConfig is not specified; send requests or a fileName.");
        var modelName = model;
        List<NewBatchRequest>? requests = null;
        if (input.Requests is { } inline)
        {
            var list = inline.Requests ?? throw CastorException.InvalidField("batch.inputConfig.requests.requests", "requests is not specified.");
            requests = new List<NewBatchRequest>(list.Count);
            for (var i = 0; i < list.Count; i++)
            {
                var metadata = list[i]?.Metadata is { ValueKind: not JsonValueKind.Null } m ? m.GetRawText() : null;
                requests.Add(list[i]?.Request is { ValueKind: JsonValueKind.Object } request
                    ? dialect.Validate(kind, modelName, request, null, metadata, $"batch.inputConfig.requests.requests[{i}].request: ")
                    : new NewBatchRequest(null, metadata, null,
                        dialect.ErrorJson(CastorException.InvalidField($"batch.inputConfig.requests.requests[{i}].request", "the request is not specified."))));
            }
        }
        var job = await batches.CreateAsync(context.Caller(), new NewBatch(kind, dialect, modelName, batch.DisplayName, requests, input.FileName),
            context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, w => WriteOperationAsync(w, job, batches, context.RequestAborted)).ConfigureAwait(false);
    }

    public static async Task GetAsync(HttpContext context, string name, BatchService batches)
    {
        var job = await batches.GetAsync(context.Caller(), name, context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, w => WriteOperationAsync(w, job, batches, context.RequestAborted)).ConfigureAwait(false);
    }

    public static async Task ListAsync(HttpContext context, BatchService batches)
    {
        var (pageSize, pageToken) = QueryParameters.Page(context.Request.Query, BatchService.MaxPageSize);
        var listing = await batches.ListAsync(context.Caller(), pageSize, pageToken, context.RequestAborted)
            .ConfigureAwait(false);
        await WriteAsync(context, async w =>
        {
            w.WriteStartObject();
            // The SDK's pager reads "operations"; listings leave out the (possibly large) inline output.
            w.WriteStartArray("operations");
            foreach (var job in listing.Batches) await WriteOperationAsync(w, job, null, context.RequestAborted).ConfigureAwait(false);
            w.WriteEndArray();
            // Omitted on the last page: @google/genai's pager re-requests forever on an empty token.
            if (listing.NextPageToken is not null) w.WriteString("nextPageToken", listing.NextPageToken);
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    /// <summary><c>POST batches/{id}:cancel</c>; answers <c>{}</c>, as the API does.</summary>
    public static async Task PostAsync(HttpContext context, string nameAndMethod, BatchService batches)
    {
        var colon = nameAndMethod.LastIndexOf(':');
        if (colon <= 0 || nameAndMethod[(colon + 1)..] != "cancel")
            throw CastorException.NotFound($"POST batches/{nameAndMethod} is not a method. Use batches/{{id}}:cancel.");
        await batches.CancelAsync(context.Caller(), nameAndMethod[..colon], context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, w => { w.WriteStartObject(); w.WriteEndObject(); return Task.CompletedTask; }).ConfigureAwait(false);
    }

    public static async Task DeleteAsync(HttpContext context, string name, BatchService batches)
    {
        await batches.DeleteAsync(context.Caller(), name, context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, w => { w.WriteStartObject(); w.WriteEndObject(); return Task.CompletedTask; }).ConfigureAwait(false);
    }

    /// <summary>
    /// The Operation for a job. With <paramref name="batches"/> (get, create) a finished inline job includes its
    /// responses, in input order, streamed from the database into the reply.
    /// </summary>
    private static async Task WriteOperationAsync(Utf8JsonWriter w, BatchJob job, BatchService? batches, CancellationToken cancellationToken)
    {
        var b = job.Batch;
        w.WriteStartObject();
        w.WriteString("name", job.Name);
        w.WriteStartObject("metadata");
        w.WriteString("@type", job.Kind == BatchKind.EmbedContent ? EmbedType : GenerateType);
        w.WriteString("model", b.Model);
        if (b.DisplayName is not null) w.WriteString("displayName", b.DisplayName);
        w.WriteString("name", job.Name);
        w.WriteString("createTime", Timestamp(b.CreateTime));
        w.WriteString("updateTime", Timestamp(b.UpdateTime));
        if (b.EndTime is { } end) w.WriteString("endTime", Timestamp(end));
        w.WriteString("state", StateName(b.State));
        w.WriteStartObject("batchStats");
        // int64 fields are strings in protobuf's JSON mapping.
        w.WriteString("requestCount", b.RequestCount.ToString(CultureInfo.InvariantCulture));
        w.WriteString("successfulRequestCount", job.Counts.Succeeded.ToString(CultureInfo.InvariantCulture));
        w.WriteString("failedRequestCount", job.Counts.Failed.ToString(CultureInfo.InvariantCulture));
        w.WriteString("pendingRequestCount", job.Counts.Pending.ToString(CultureInfo.InvariantCulture));
        w.WriteEndObject();
        if (job.Done)
        {
            w.WriteStartObject("output");
            if (b.OutputFile is not null)
            {
                w.WriteString("responsesFile", b.OutputFile);
            }
            else if (batches is not null)
            {
                w.WriteStartObject("inlinedResponses");
                w.WriteStartArray("inlinedResponses");
                await foreach (var request in batches.ReadRequestsAsync(job, cancellationToken).ConfigureAwait(false))
                {
                    w.WriteStartObject();
                    if (request.Result is not null)
                    {
                        w.WritePropertyName(request.State == BatchRequestState.Succeeded ? "response" : "error");
                        w.WriteRawValue(request.Result, skipInputValidation: true);
                    }
                    if (request.Metadata is not null)
                    {
                        w.WritePropertyName("metadata");
                        w.WriteRawValue(request.Metadata, skipInputValidation: true);
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
        if (job.Done) w.WriteBoolean("done", true);
        w.WriteEndObject();
    }

    private static async Task WriteAsync(HttpContext context, Func<Utf8JsonWriter, Task> write)
    {
        context.Response.ContentType = "application/json; charset=UTF-8";
        await using var w = new Utf8JsonWriter(context.Response.BodyWriter,
            new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        await write(w).ConfigureAwait(false);
        await w.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    public static string StateName(BatchState state) => state switch
    {
        BatchState.Pending => "BATCH_STATE_PENDING",
        BatchState.Running => "BATCH_STATE_RUNNING",
        BatchState.Succeeded => "BATCH_STATE_SUCCEEDED",
        BatchState.Failed => "BATCH_STATE_FAILED",
        BatchState.Cancelled => "BATCH_STATE_CANCELLED",
        _ => "BATCH_STATE_EXPIRED",
    };

    private static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
