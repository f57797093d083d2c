using System.Text.Json;

namespace Castor.Api.Gemini.Wire;

// The error body GeminiErrors writes, as types: they describe it in the OpenAPI document (the writer builds the same
// shape with a Utf8JsonWriter, detail by detail; ApiDocumentTests checks a real error against this description).

/// <summary><c>{"error": google.rpc.Status}</c>: every Gemini client reads the error from here.</summary>
internal sealed class ErrorResponse
{
    public RpcStatus Error { get; set; } = new();
}

/// <summary>google.rpc.Status: the HTTP status as <c>code</c>, the RPC status name (INVALID_ARGUMENT, RESOURCE_EXHAUSTED, …) as <c>status</c>.</summary>
internal sealed class RpcStatus
{
    public int Code { get; set; }
    public string Message { get; set; } = "";
    public string Status { get; set; } = "";

    /// <summary>google.rpc detail messages, each with its <c>@type</c>: BadRequest, ErrorInfo, QuotaFailure, RetryInfo, Help.</summary>
    public List<JsonElement>? Details { get; set; }
}
