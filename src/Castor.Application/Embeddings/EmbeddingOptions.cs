namespace Castor.Application.Embeddings;

/// <summary>Limits of the embedding methods.</summary>
public sealed class EmbeddingOptions
{
    /// <summary>The API accepts at most 100 requests in one batchEmbedContents call.</summary>
    public const int DefaultMaxBatchRequests = 100;

    public int MaxBatchRequests { get; set; } = DefaultMaxBatchRequests;
}
