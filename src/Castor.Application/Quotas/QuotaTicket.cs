using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Keys;

namespace Castor.Application.Quotas;

/// <summary>
/// One counted call's way through the limiter (generation or embeddings): the admission the service runs with the
/// prepared prompt, at most once, and what happens when the call fails or never ran the admission.
/// </summary>
internal sealed class QuotaTicket(QuotaLimiter limiter, QuotaOperation operation, Caller caller, string modelId, string requestedModel, long requests)
{
    private int _ran;
    private QuotaAdmission? _admission;

    /// <summary>The <see cref="PromptAdmission"/> handed to the service; a call is admitted once, even by a service that prepares twice.</summary>
    public async ValueTask AdmitAsync(string preparedFor, PromptTokenCounts prompt, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _ran, 1) != 0) return;
        _admission = await limiter.AdmitAsync(caller, operation, preparedFor, requestedModel, requests, prompt.Total, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the call with this ticket's admission. A call refused as no use of the quota gives back what it counted; a
    /// failed one still counts (<see cref="QuotaRefunds"/>); one that never ran the admission is counted from
    /// <paramref name="promptTokens"/> (an inner service without the seam).
    /// </summary>
    public async Task<T> RunAsync<T>(Func<PromptAdmission, Task<T>> call, Func<T, int> promptTokens)
    {
        T result;
        try
        {
            result = await call(AdmitAsync).ConfigureAwait(false);
        }
        catch (CastorException ex) when (QuotaRefunds.NotAUse(ex))
        {
            await limiter.CancelAsync(_admission).ConfigureAwait(false);
            throw;
        }
        catch (Exception ex) when (QuotaRefunds.CountsAsUse(ex))
        {
            await EnsureCountedAsync(0).ConfigureAwait(false);
            throw;
        }
        await EnsureCountedAsync(promptTokens(result)).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// A call that never ran the admission still counts: from the count it reported (an inner service without the
    /// seam), or as requests without tokens (it failed before its prompt was prepared: a 400 or a 500 counts against
    /// the quota, as the API's billing FAQ says). It cannot be refused any more, so it is counted without a check.
    /// </summary>
    private async ValueTask EnsureCountedAsync(int promptTokens)
    {
        if (Interlocked.Exchange(ref _ran, 1) != 0) return;
        await limiter.CountAsync(caller, modelId, requestedModel, requests, promptTokens).ConfigureAwait(false);
    }
}
