using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Metering;
using Castor.Application.Models;
using Castor.Engine.Scheduling;

namespace Castor.Application.Quotas;

/// <summary>
/// Rate limits for generateContent and streamGenerateContent (and every adapter's calls that map to them, Live turns
/// included). The limiter runs inside the generation path (<see cref="GenerationRequest.Admission"/>), once the prompt
/// is prepared and before it is queued to the engine, so TPM counts the prompt's real tokens (text from the model's
/// tokenizer, images and audio as the projector encodes them, a cached content's tokens included) with no second
/// tokenization, and a refused request never reaches the engine. A Live turn counts its input tokens against TPM only:
/// the session was counted (sessions, RPD) when it started, as the API counts Live. countTokens is not counted (the API's
/// rate-limit tables do not list it). Batch requests are not counted here: they have their own limit
/// (<c>BatchEnqueuedTokens</c>), as in the API.
/// </summary>
public sealed class QuotaGenerationService(IGenerationService inner, QuotaLimiter limiter, ModelCatalogue catalogue) : DelegatingGenerationService(inner)
{
    public override async Task<GenerationStream> StartAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken)
    {
        if (TicketFor(caller, request) is not { } ticket) return await Inner.StartAsync(caller, request, cancellationToken).ConfigureAwait(false);
        GenerationStream stream;
        try
        {
            stream = await Inner.StartAsync(caller, request with { Admission = ticket.AdmitAsync }, cancellationToken).ConfigureAwait(false);
        }
        catch (CastorException ex) when (QuotaRefunds.NotAUse(ex))
        {
            await limiter.CancelAsync(ticket.Admission).ConfigureAwait(false);
            throw;
        }
        catch (Exception ex) when (QuotaRefunds.CountsAsUse(ex))
        {
            await ticket.EnsureCountedAsync(0).ConfigureAwait(false);
            throw;
        }
        await ticket.EnsureCountedAsync(stream.PromptTokenCount).ConfigureAwait(false);
        return stream;
    }

    public override async Task<GenerationResult> GenerateAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken)
    {
        if (TicketFor(caller, request) is not { } ticket) return await Inner.GenerateAsync(caller, request, cancellationToken).ConfigureAwait(false);
        GenerationResult result;
        try
        {
            result = await Inner.GenerateAsync(caller, request with { Admission = ticket.AdmitAsync }, cancellationToken).ConfigureAwait(false);
        }
        catch (CastorException ex) when (QuotaRefunds.NotAUse(ex))
        {
            await limiter.CancelAsync(ticket.Admission).ConfigureAwait(false);
            throw;
        }
        catch (Exception ex) when (QuotaRefunds.CountsAsUse(ex))
        {
            await ticket.EnsureCountedAsync(0).ConfigureAwait(false);
            throw;
        }
        await ticket.EnsureCountedAsync(result.Usage.PromptTokenCount).ConfigureAwait(false);
        return result;
    }

    /// <summary>The request's admission, or null when it is not counted here (a batch request, an unknown model).</summary>
    private Ticket? TicketFor(Caller caller, GenerationRequest request)
    {
        if (request.Priority == EnginePriority.Batch) return null;
        string modelId;
        try
        {
            modelId = catalogue.ResolveGenerative(request.Model).Description.Id;
        }
        catch (CastorException)
        {
            // An unknown model is the inner service's 404 to give; only calls that reach a model are counted.
            return null;
        }
        // A Live turn is not a request of its own: its session was counted when it started.
        var requests = UsageContext.Current?.Method == UsageMethods.Live ? 0 : 1;
        return new Ticket(limiter, caller, modelId, ModelCatalogue.StripPrefix(request.Model), requests);
    }

    /// <summary>One call's admission: run by the generation path with the prepared prompt, at most once.</summary>
    private sealed class Ticket(QuotaLimiter limiter, Caller caller, string modelId, string requestedModel, long requests)
    {
        private int _ran;

        public QuotaAdmission? Admission { get; private set; }

        public async ValueTask AdmitAsync(string preparedFor, PromptTokenCounts prompt, CancellationToken cancellationToken)
        {
            // A request is admitted once, even by an inner service that prepares its prompt twice.
            if (Interlocked.Exchange(ref _ran, 1) != 0) return;
            Admission = await limiter.AdmitAsync(caller, QuotaOperation.GenerateContent, preparedFor, requestedModel, requests, prompt.Total,
                cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// A call that never ran the admission still counts: from the count it reported (an inner service without the
        /// seam), or as a request without tokens (it failed before its prompt was prepared: a 400 or a 500 counts against
        /// the quota, as the API's billing FAQ says). It cannot be refused any more, so it is counted without a check.
        /// </summary>
        public async ValueTask EnsureCountedAsync(int promptTokens)
        {
            if (Interlocked.Exchange(ref _ran, 1) != 0) return;
            await limiter.CountAsync(caller, modelId, requestedModel, requests, promptTokens).ConfigureAwait(false);
        }
    }
}
