using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Engine.Scheduling;
using Castor.Storage.Metering;

namespace Castor.Application.Metering;

/// <summary>
/// Meters every generation call that passes through it (every adapter's, the Live session's turns and batch requests):
/// a whole call when it returns, a stream when it ends (its last usage is the final one), each with its status and
/// latency, into the <see cref="UsageMeter"/>. countTokens is counted as a request with no tokens: the API does not bill it.
/// </summary>
public sealed class MeteredGenerationService(IGenerationService inner, UsageMeter meter, TimeProvider clock) : DelegatingGenerationService(inner)
{
    public override async Task<GenerationStream> StartAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken)
    {
        var origin = OriginOf(request, UsageMethods.StreamGenerateContent);
        var started = clock.GetTimestamp();
        GenerationStream stream;
        try
        {
            stream = await Inner.StartAsync(caller, request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            meter.RecordFailure(caller, request.Model, origin, ex, UsageMeter.RequestOnly(clock.GetElapsedTime(started)));
            throw;
        }
        return new MeteredGenerationStream(stream, (usage, failure) =>
        {
            var counts = UsageMeter.CountsOf(usage, clock.GetElapsedTime(started), stream.PromptTokenCount, stream.PromptTokensDetails);
            if (failure is null) meter.Record(caller, request.Model, origin, UsageBucket.Ok, counts);
            else meter.RecordFailure(caller, request.Model, origin, failure, counts);
        }, cancellationToken);
    }

    public override async Task<GenerationResult> GenerateAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken)
    {
        var origin = OriginOf(request, UsageMethods.GenerateContent);
        var started = clock.GetTimestamp();
        try
        {
            var result = await Inner.GenerateAsync(caller, request, cancellationToken).ConfigureAwait(false);
            meter.Record(caller, request.Model, origin, UsageBucket.Ok, UsageMeter.CountsOf(result.Usage, clock.GetElapsedTime(started)));
            return result;
        }
        catch (Exception ex)
        {
            meter.RecordFailure(caller, request.Model, origin, ex, UsageMeter.RequestOnly(clock.GetElapsedTime(started)));
            throw;
        }
    }

    public override Task<int> CountTokensAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken) =>
        CountAsync(caller, request, () => Inner.CountTokensAsync(caller, request, cancellationToken));

    public override Task<PromptTokenCounts> CountPromptTokensAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken) =>
        CountAsync(caller, request, () => Inner.CountPromptTokensAsync(caller, request, cancellationToken));

    /// <summary>
    /// Only a countTokens call is a request of its own; other features count tokens on the way (a Live session checks
    /// its setup), and those counts are part of their own calls.
    /// </summary>
    private async Task<T> CountAsync<T>(Caller caller, GenerationRequest request, Func<Task<T>> count)
    {
        if (UsageContext.Current is not { Method: UsageMethods.CountTokens } origin) return await count().ConfigureAwait(false);
        var started = clock.GetTimestamp();
        try
        {
            var result = await count().ConfigureAwait(false);
            meter.Record(caller, request.Model, origin, UsageBucket.Ok, UsageMeter.RequestOnly(clock.GetElapsedTime(started)));
            return result;
        }
        catch (Exception ex)
        {
            meter.RecordFailure(caller, request.Model, origin, ex, UsageMeter.RequestOnly(clock.GetElapsedTime(started)));
            throw;
        }
    }

    private static UsageOrigin OriginOf(GenerationRequest request, string method) =>
        UsageContext.Current ?? new UsageOrigin(method, request.Priority == EnginePriority.Batch);
}
