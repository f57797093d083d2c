using Castor.Application.Embeddings;
using Castor.Application.Errors;
using Castor.Application.Keys;
using Castor.Application.Models;

namespace Castor.Application.Quotas;

/// <summary>
/// Rate limits for embedContent and batchEmbedContents: each content is one request (a batch of 20 is 20 requests
/// against RPM and RPD, as the API counts them), and its text's tokens count against TPM, estimated before and
/// corrected with the count the model read.
/// </summary>
public sealed class QuotaEmbeddingService(IEmbeddingService inner, QuotaLimiter limiter, ModelCatalogue catalogue) : IEmbeddingService
{
    public async Task<EmbeddingResult> EmbedContentAsync(Caller caller, string model, EmbeddingRequest request, CancellationToken cancellationToken)
    {
        var admission = await AdmitAsync(caller, model, 1, QuotaTokenEstimate.Of(request?.Content), cancellationToken).ConfigureAwait(false);
        return await RunAsync(admission, () => inner.EmbedContentAsync(caller, model, request!, cancellationToken)).ConfigureAwait(false);
    }

    public async Task<EmbeddingResult> BatchEmbedContentsAsync(Caller caller, string model, IReadOnlyList<EmbeddingRequest?>? requests, CancellationToken cancellationToken)
    {
        var count = Math.Max(1, requests?.Count ?? 0);
        var tokens = requests?.Sum(r => QuotaTokenEstimate.Of(r?.Content)) ?? 0;
        var admission = await AdmitAsync(caller, model, count, tokens, cancellationToken).ConfigureAwait(false);
        return await RunAsync(admission, () => inner.BatchEmbedContentsAsync(caller, model, requests, cancellationToken)).ConfigureAwait(false);
    }

    private async Task<EmbeddingResult> RunAsync(QuotaAdmission? admission, Func<Task<EmbeddingResult>> run)
    {
        EmbeddingResult result;
        try
        {
            result = await run().ConfigureAwait(false);
        }
        catch (CastorException ex) when (QuotaRefunds.RefusedBeforeWork(ex))
        {
            await limiter.CancelAsync(admission).ConfigureAwait(false);
            throw;
        }
        QuotaRefunds.InBackground(limiter.CorrectAsync(admission, result.PromptTokenCount));
        return result;
    }

    private ValueTask<QuotaAdmission?> AdmitAsync(Caller caller, string model, long requests, long tokens, CancellationToken cancellationToken)
    {
        // Batch jobs' embeddings are not online calls: they are limited by BatchEnqueuedTokens, as in the API.
        if (Metering.UsageContext.Current?.Batch == true) return ValueTask.FromResult<QuotaAdmission?>(null);
        string modelId;
        try
        {
            modelId = catalogue.ResolveEmbedding(model).Id;
        }
        catch (CastorException)
        {
            return ValueTask.FromResult<QuotaAdmission?>(null);
        }
        return limiter.AdmitAsync(caller, QuotaOperation.EmbedContent, modelId, ModelCatalogue.StripPrefix(model), requests, tokens, cancellationToken);
    }
}
