using Castor.Application.Keys;

namespace Castor.Application.Embeddings;

/// <summary>
/// embedContent and batchEmbedContents as every protocol adapter calls them, for the authenticated caller (unused by
/// the rules themselves today; it is there so metering and quotas can wrap the service like <see cref="Generation.IGenerationService"/>).
/// </summary>
public interface IEmbeddingService
{
    /// <summary>One content, one vector.</summary>
    Task<EmbeddingResult> EmbedContentAsync(Caller caller, string model, EmbeddingRequest request, CancellationToken cancellationToken);

    /// <summary>One vector per request, in order, computed together.</summary>
    Task<EmbeddingResult> BatchEmbedContentsAsync(Caller caller, string model, IReadOnlyList<EmbeddingRequest?>? requests, CancellationToken cancellationToken);
}
