using System.Text.Json;

namespace Castor.Api.Gemini.Wire;

// Wire types of batchGenerateContent and asyncBatchEmbedContent (the requests; the Operation replies are written by
// BatchesApi, since they embed stored results as they are).

/// <summary>The body of both create calls: <c>{"batch": {…}}</c>.</summary>
public sealed class CreateBatchRequest
{
    public BatchResource? Batch { get; set; }
}

/// <summary>A <c>GenerateContentBatch</c> or <c>EmbedContentBatch</c> as a client submits it.</summary>
public sealed class BatchResource
{
    public string? DisplayName { get; set; }
    public string? Model { get; set; }
    public BatchInputConfig? InputConfig { get; set; }
}

/// <summary>Exactly one of <see cref="FileName"/> (also read as <c>file_name</c>, which the SDK's createEmbeddings sends) and <see cref="Requests"/>.</summary>
public sealed class BatchInputConfig
{
    public string? FileName { get; set; }
    public InlinedRequests? Requests { get; set; }
}

public sealed class InlinedRequests
{
    public List<InlinedRequest?>? Requests { get; set; }
}

/// <summary>A request kept as JSON (stored as sent, validated separately), and the caller's metadata returned with its response.</summary>
public sealed class InlinedRequest
{
    public JsonElement? Request { get; set; }
    public JsonElement? Metadata { get; set; }
}
