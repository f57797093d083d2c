namespace Castor.Api.Hosting;

/// <summary>
/// One operation that a catch-all route serves, as the OpenAPI document describes it: the Gemini API's custom methods
/// (<c>models/{model}:generateContent</c>, <c>batches/{batch}:cancel</c>) and sub-resources (<c>files/{file_id}/content</c>)
/// are dispatched by one route each, since a model id may itself hold colons, but each is its own operation with its own
/// body and answer. <see cref="Path"/> replaces the route's catch-all parameter: <c>{model}:generateContent</c>.
/// </summary>
/// <param name="Path">The path after the route's fixed prefix, its parameters in braces.</param>
/// <param name="Summary">The operation's one-line summary, starting with its name in the API's words (<c>models.generateContent</c>).</param>
/// <param name="Request">The JSON body's wire type; null for an operation without a body.</param>
/// <param name="Response">The 200 answer's wire type.</param>
public sealed record DescribedOperation(string Path, string Summary, Type? Request, Type Response)
{
    /// <summary>The 200 answer's media type when it is not JSON (a file's bytes, Server-Sent Events).</summary>
    public string? ResponseMediaType { get; init; }

    /// <summary>
    /// The answer is a stream of <see cref="Response"/>: Server-Sent Events with <c>?alt=sse</c>, else one JSON array
    /// (streamGenerateContent).
    /// </summary>
    public bool Streams { get; init; }
}
