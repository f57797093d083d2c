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
    public override Task<GenerationStream> StartAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken) =>
        TicketFor(caller, request) is { } ticket
            ? ticket.RunAsync(admit => Inner.StartAsync(caller, request with { Admission = admit }, cancellationToken), s => s.PromptTokenCount)
            : Inner.StartAsync(caller, request, cancellationToken);

    public override Task<GenerationResult> GenerateAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken) =>
        TicketFor(caller, request) is { } ticket
            ? ticket.RunAsync(admit => Inner.GenerateAsync(caller, request with { Admission = admit }, cancellationToken), r => r.Usage.PromptTokenCount)
            : Inner.GenerateAsync(caller, request, cancellationToken);

    /// <summary>The request's admission, or null when it is not counted here (a batch request, an unknown model).</summary>
    private QuotaTicket? TicketFor(Caller caller, GenerationRequest request)
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
        return new QuotaTicket(limiter, QuotaOperation.GenerateContent, caller, modelId, ModelCatalogue.StripPrefix(request.Model), requests);
    }
}
