using Castor.Application.Generation;
using Castor.Application.Keys;

namespace Castor.Application.Embeddings;

/// <summary>
/// embedContent and batchEmbedContents as every protocol adapter calls them, for the authenticated caller (unused by
/// the rules themselves today; it is there so metering and quotas can wrap the service like <see cref="Generation.IGenerationService"/>).
/// </summary>
public interface IEmbeddingService
{
    /// <summary>
    /// One content, one vector. <paramref name="admission"/>, when given, runs once the text is validated and tokenized
    /// and before the model computes anything, with the tokens the model will read (the rate limiter's seam, as
    /// <see cref="GenerationRequest.Admission"/> is for generation).
    /// </summary>
    Task<EmbeddingResult> EmbedContentAsync(Caller caller, string model, EmbeddingRequest request, PromptAdmission? admission, CancellationToken cancellationToken);

    /// <summary>
    /// One vector per request, in order, computed together; <paramref name="admission"/> runs once for the whole call,
    /// with every request's tokens, after all of them are validated and tokenized.
    /// </summary>
    Task<EmbeddingResult> BatchEmbedContentsAsync(Caller caller, string model, IReadOnlyList<EmbeddingRequest?>? requests, PromptAdmission? admission,
        CancellationToken cancellationToken);
}
