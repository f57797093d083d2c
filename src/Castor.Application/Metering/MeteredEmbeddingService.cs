using Castor.Application.Embeddings;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Storage.Metering;

namespace Castor.Application.Metering;

/// <summary>Meters embedContent and batchEmbedContents (and what the adapters and batch jobs call them for): the prompt tokens the model read.</summary>
public sealed class MeteredEmbeddingService(IEmbeddingService inner, UsageMeter meter, TimeProvider clock) : IEmbeddingService
{
    public Task<EmbeddingResult> EmbedContentAsync(Caller caller, string model, EmbeddingRequest request, PromptAdmission? admission,
        CancellationToken cancellationToken) =>
        MeterAsync(caller, model, UsageMethods.EmbedContent, () => inner.EmbedContentAsync(caller, model, request, admission, cancellationToken));

    public Task<EmbeddingResult> BatchEmbedContentsAsync(Caller caller, string model, IReadOnlyList<EmbeddingRequest?>? requests, PromptAdmission? admission,
        CancellationToken cancellationToken) =>
        MeterAsync(caller, model, UsageMethods.BatchEmbedContents, () => inner.BatchEmbedContentsAsync(caller, model, requests, admission, cancellationToken));

    private async Task<EmbeddingResult> MeterAsync(Caller caller, string model, string method, Func<Task<EmbeddingResult>> embed)
    {
        var origin = UsageContext.Current ?? new UsageOrigin(method, false);
        var started = clock.GetTimestamp();
        try
        {
            var result = await embed().ConfigureAwait(false);
            var latency = clock.GetElapsedTime(started);
            meter.Record(caller, model, origin, UsageBucket.Ok, UsageCounts.Zero with
            {
                Requests = 1,
                PromptTokens = result.PromptTokenCount,
                PromptTextTokens = result.PromptTokenCount,
                LatencyMilliseconds = (long)latency.TotalMilliseconds,
            });
            return result;
        }
        catch (Exception ex)
        {
            meter.RecordFailure(caller, model, origin, ex, UsageMeter.RequestOnly(clock.GetElapsedTime(started)));
            throw;
        }
    }
}
