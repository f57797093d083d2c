using Castor.Application.Generation;

namespace Castor.Application.Embeddings;

/// <summary>One text to embed, as a protocol adapter hands it over (an <c>EmbedContentRequest</c> on the Gemini wire).</summary>
public sealed record EmbeddingRequest
{
    /// <summary>The model the request names in its body, if any (LangChain sends none; SDKs send <c>models/…</c>).</summary>
    public string? Model { get; init; }
    public Content? Content { get; init; }

    /// <summary>The task type's wire name, e.g. <c>RETRIEVAL_QUERY</c>; validated by the service.</summary>
    public string? TaskType { get; init; }
    public string? Title { get; init; }
    public int? OutputDimensionality { get; init; }

    /// <summary>False asks for a 400 instead of silent truncation when the text is longer than the model's window.</summary>
    public bool? AutoTruncate { get; init; }
}
