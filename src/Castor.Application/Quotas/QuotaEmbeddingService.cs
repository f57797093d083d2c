using Castor.Application.Embeddings;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Models;

namespace Castor.Application.Quotas;

/// <summary>
/// Rate limits for embedContent and batchEmbedContents: each content is one request (a batch of 20 is 20 requests
/// against RPM and RPD, as the API counts them), and the tokens the model will read count against TPM. The limiter
/// runs inside the embedding service through its admission seam, once every text is validated and tokenized and before
/// the model computes anything: TPM counts real tokens with no second tokenization, and a refused call never reaches
/// the engine. An invalid call (400) counts as its requests without tokens (<see cref="QuotaRefunds"/>).
/// </summary>
public sealed class QuotaEmbeddingService(IEmbeddingService inner, QuotaLimiter limiter, ModelCatalogue catalogue) : IEmbeddingService
{
    public Task<EmbeddingResult> EmbedContentAsync(Caller caller, string model, EmbeddingRequest request, PromptAdmission? admission,
        CancellationToken cancellationToken) =>
        TicketFor(caller, model, 1) is { } ticket
            ? ticket.RunAsync(admit => inner.EmbedContentAsync(caller, model, request, Both(admission, admit), cancellationToken), r => r.PromptTokenCount)
            : inner.EmbedContentAsync(caller, model, request, admission, cancellationToken);

    public Task<EmbeddingResult> BatchEmbedContentsAsync(Caller caller, string model, IReadOnlyList<EmbeddingRequest?>? requests, PromptAdmission? admission,
        CancellationToken cancellationToken) =>
        TicketFor(caller, model, Math.Max(1, requests?.Count ?? 0)) is { } ticket
            ? ticket.RunAsync(admit => inner.BatchEmbedContentsAsync(caller, model, requests, Both(admission, admit), cancellationToken), r => r.PromptTokenCount)
            : inner.BatchEmbedContentsAsync(caller, model, requests, admission, cancellationToken);

    /// <summary>An outer caller's own admission, then this one.</summary>
    private static PromptAdmission Both(PromptAdmission? outer, PromptAdmission mine) => outer is null
        ? mine
        : async (modelId, prompt, cancellationToken) =>
        {
            await outer(modelId, prompt, cancellationToken).ConfigureAwait(false);
            await mine(modelId, prompt, cancellationToken).ConfigureAwait(false);
        };

    /// <summary>The call's admission, or null when it is not counted here (a batch job's embeddings, an unknown model).</summary>
    private QuotaTicket? TicketFor(Caller caller, string model, long requests)
    {
        // Batch jobs' embeddings are not online calls: they are limited by BatchEnqueuedTokens, as in the API.
        if (Metering.UsageContext.Current?.Batch == true) return null;
        string modelId;
        try
        {
            modelId = catalogue.ResolveEmbedding(model).Id;
        }
        catch (CastorException)
        {
            // An unknown model is the inner service's 404 to give; only calls that reach a model are counted.
            return null;
        }
        return new QuotaTicket(limiter, QuotaOperation.EmbedContent, caller, modelId, ModelCatalogue.StripPrefix(model), requests);
    }
}
