namespace Castor.Application.Batches;

/// <summary>The method every request of a job calls.</summary>
public enum BatchKind
{
    /// <summary><c>batchGenerateContent</c>: each request is a <c>GenerateContentRequest</c>.</summary>
    GenerateContent,

    /// <summary><c>asyncBatchEmbedContent</c>: each request is an <c>EmbedContentRequest</c>.</summary>
    EmbedContent,
}
