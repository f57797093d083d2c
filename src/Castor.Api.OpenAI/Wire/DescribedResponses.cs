using System.Text.Json;

namespace Castor.Api.OpenAI.Wire;

// Answers the adapter writes with a Utf8JsonWriter (errors, embeddings, files, batches), as types: they describe those
// answers in the OpenAPI document (snake_case there, as on the wire). ApiDocumentTests checks real answers against them.

/// <summary>OpenAI's error body, <c>{"error":{"message","type","param","code"}}</c> (see OpenAIErrors).</summary>
internal sealed class OpenAIErrorResponse
{
    public OpenAIError Error { get; set; } = new();
}

internal sealed class OpenAIError
{
    public string Message { get; set; } = "";

    /// <summary>invalid_request_error, authentication_error, permission_error, rate_limit_error, server_error, …</summary>
    public string Type { get; set; } = "";

    public string? Param { get; set; }
    public string? Code { get; set; }
}

/// <summary><c>POST embeddings</c>' answer: one embedding per input, in order.</summary>
internal sealed class EmbeddingList
{
    public string Object { get; set; } = "list";
    public List<EmbeddingObject> Data { get; set; } = [];
    public string Model { get; set; } = "";
    public EmbeddingUsage Usage { get; set; } = new();
}

internal sealed class EmbeddingObject
{
    public string Object { get; set; } = "embedding";
    public int Index { get; set; }

    /// <summary>The vector: numbers, or (with encoding_format base64) a base64 string of little-endian float32s.</summary>
    public JsonElement Embedding { get; set; }
}

internal sealed class EmbeddingUsage
{
    public int PromptTokens { get; set; }
    public int TotalTokens { get; set; }
}

/// <summary>A file uploaded for batches (purpose "batch").</summary>
internal sealed class FileObject
{
    public string Id { get; set; } = "";
    public string Object { get; set; } = "file";
    public long Bytes { get; set; }
    public long CreatedAt { get; set; }
    public string Filename { get; set; } = "";
    public string Purpose { get; set; } = "batch";
    public string Status { get; set; } = "processed";
}

/// <summary><c>POST batches</c>' body.</summary>
internal sealed class BatchCreateRequest
{
    public string InputFileId { get; set; } = "";

    /// <summary>/v1/chat/completions, the one endpoint batches run here.</summary>
    public string Endpoint { get; set; } = "";

    public string? CompletionWindow { get; set; }
}

/// <summary>A batch job in OpenAI's shape; times are Unix seconds, the one that ended it set once it ended.</summary>
internal sealed class BatchObject
{
    public string Id { get; set; } = "";
    public string Object { get; set; } = "batch";
    public string Endpoint { get; set; } = "";
    /// <summary>Always null here (a failed request is a line of the output file); JsonElement, not JsonElement?, so its schema admits null once.</summary>
    public JsonElement Errors { get; set; }
    public string? InputFileId { get; set; }
    public string CompletionWindow { get; set; } = "24h";

    /// <summary>validating, in_progress, finalizing, completed, failed, expired, cancelling, cancelled.</summary>
    public string Status { get; set; } = "";

    public string? OutputFileId { get; set; }
    public string? ErrorFileId { get; set; }
    public long CreatedAt { get; set; }
    public long ExpiresAt { get; set; }
    public long? CompletedAt { get; set; }
    public long? CancelledAt { get; set; }
    public long? ExpiredAt { get; set; }
    public long? FailedAt { get; set; }
    public BatchRequestCounts RequestCounts { get; set; } = new();
    public JsonElement Metadata { get; set; }
}

internal sealed class BatchRequestCounts
{
    public int Total { get; set; }
    public int Completed { get; set; }
    public int Failed { get; set; }
}
