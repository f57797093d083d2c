using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Models;
using Castor.Engine.Scheduling;

namespace Castor.Application.Quotas;

/// <summary>
/// Rate limits for generateContent and streamGenerateContent (and every adapter's calls that map to them, Live turns
/// included): the limiter admits or refuses the request before the inner service starts any work, and the token
/// estimate is corrected with the prompt's real count once the model has read it. countTokens is not counted (the API's
/// rate-limit tables do not list it). Batch requests are not counted here: they have their own limit
/// (<c>BatchEnqueuedTokens</c>), as in the API.
/// </summary>
public sealed class QuotaGenerationService(IGenerationService inner, QuotaLimiter limiter, ModelCatalogue catalogue) : DelegatingGenerationService(inner)
{
    public override async Task<GenerationStream> StartAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken)
    {
        var admission = await AdmitAsync(caller, request, cancellationToken).ConfigureAwait(false);
        GenerationStream stream;
        try
        {
            stream = await Inner.StartAsync(caller, request, cancellationToken).ConfigureAwait(false);
        }
        catch (CastorException ex) when (QuotaRefunds.RefusedBeforeWork(ex))
        {
            await limiter.CancelAsync(admission).ConfigureAwait(false);
            throw;
        }
        // The prompt's real count is known once the stream starts; the correction is off the request's path.
        QuotaRefunds.InBackground(limiter.CorrectAsync(admission, stream.PromptTokenCount));
        return stream;
    }

    public override async Task<GenerationResult> GenerateAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken)
    {
        var admission = await AdmitAsync(caller, request, cancellationToken).ConfigureAwait(false);
        GenerationResult result;
        try
        {
            result = await Inner.GenerateAsync(caller, request, cancellationToken).ConfigureAwait(false);
        }
        catch (CastorException ex) when (QuotaRefunds.RefusedBeforeWork(ex))
        {
            await limiter.CancelAsync(admission).ConfigureAwait(false);
            throw;
        }
        QuotaRefunds.InBackground(limiter.CorrectAsync(admission, result.Usage.PromptTokenCount));
        return result;
    }

    private ValueTask<QuotaAdmission?> AdmitAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken)
    {
        if (request.Priority == EnginePriority.Batch) return ValueTask.FromResult<QuotaAdmission?>(null);
        string modelId;
        try
        {
            modelId = catalogue.ResolveGenerative(request.Model).Description.Id;
        }
        catch (CastorException)
        {
            // An unknown model is the inner service's 404 to give; only calls that reach a model are counted.
            return ValueTask.FromResult<QuotaAdmission?>(null);
        }
        return limiter.AdmitAsync(caller, QuotaOperation.GenerateContent, modelId, ModelCatalogue.StripPrefix(request.Model), 1,
            QuotaTokenEstimate.Of(request), cancellationToken);
    }
}
