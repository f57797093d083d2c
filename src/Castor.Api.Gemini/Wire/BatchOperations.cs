using System.Text.Json;
using System.Text.Json.Serialization;

namespace Castor.Api.Gemini.Wire;

// The long-running Operation a batch job is answered as, as types: they describe BatchesApi's replies in the OpenAPI
// document (BatchesApi writes the same shape with a Utf8JsonWriter, streaming stored results into it as they are;
// ApiDocumentTests checks a real reply against this description).

/// <summary>A batch job as a google.longrunning.Operation: its name, the batch as <c>metadata</c>, and <c>done</c> once it ended.</summary>
internal sealed class BatchOperation
{
    public string Name { get; set; } = "";
    public BatchMetadata Metadata { get; set; } = new();
    public bool? Done { get; set; }
}

/// <summary>A GenerateContentBatch or an EmbedContentBatch (its <c>@type</c> says which).</summary>
internal sealed class BatchMetadata
{
    [JsonPropertyName("@type")]
    public string Type { get; set; } = "";

    public string Model { get; set; } = "";
    public string? DisplayName { get; set; }
    public string Name { get; set; } = "";
    public string CreateTime { get; set; } = "";
    public string UpdateTime { get; set; } = "";
    public string? EndTime { get; set; }

    /// <summary>BATCH_STATE_PENDING, BATCH_STATE_RUNNING, BATCH_STATE_SUCCEEDED, BATCH_STATE_FAILED, BATCH_STATE_CANCELLED, BATCH_STATE_EXPIRED.</summary>
    public string State { get; set; } = "";

    public BatchStats BatchStats { get; set; } = new();

    /// <summary>Once the job ended: its responses file, or (get and create only) its inline responses.</summary>
    public BatchOutput? Output { get; set; }
}

/// <summary>Request counts; int64 fields are strings in protobuf's JSON mapping.</summary>
internal sealed class BatchStats
{
    public string RequestCount { get; set; } = "0";
    public string SuccessfulRequestCount { get; set; } = "0";
    public string FailedRequestCount { get; set; } = "0";
    public string PendingRequestCount { get; set; } = "0";
}

internal sealed class BatchOutput
{
    public string? ResponsesFile { get; set; }
    public InlinedResponses? InlinedResponses { get; set; }
}

internal sealed class InlinedResponses
{
    [JsonPropertyName("inlinedResponses")]
    public List<InlinedResponse> Responses { get; set; } = [];
}

/// <summary>One request's outcome, in input order: its response (a GenerateContentResponse or an EmbedContentResponse) or its error, and the caller's metadata.</summary>
internal sealed class InlinedResponse
{
    // JsonElement, not JsonElement?: any JSON value already, and the generator's oneOf [null, any] would refuse null twice over.
    public JsonElement Response { get; set; }
    public RpcStatus? Error { get; set; }
    public JsonElement Metadata { get; set; }
}

/// <summary>batches.list: the jobs as Operations (without inline output), and the next page's token unless this is the last page.</summary>
internal sealed class ListBatchOperationsResponse
{
    public List<BatchOperation> Operations { get; set; } = [];
    public string? NextPageToken { get; set; }
}
