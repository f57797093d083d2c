using Castor.Application.Errors;
using Castor.Application.Limits;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.Gemini.Infrastructure;

/// <summary>Endpoint metadata: the route runs a model (generation, embeddings, countTokens) and is subject to <see cref="ModelRequestLimitsMiddleware"/>.</summary>
public sealed class ModelRequestMetadata
{
    public static readonly ModelRequestMetadata Instance = new();

    private ModelRequestMetadata()
    {
    }
}

public static class ModelRequestEndpoints
{
    /// <summary>Marks an endpoint as a model request: per-key and per-project concurrency limits and the request deadline apply.</summary>
    public static TBuilder LimitedAsModelRequest<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(ModelRequestMetadata.Instance);
}

/// <summary>
/// The one place both adapters pass for every model request: it takes a place under the caller's key and project
/// limits (429 RESOURCE_EXHAUSTED when either is full) and gives it back when the request ends, however it ends
/// (completion, error, client abort, end of a stream); and it bounds the request's life by <c>Limits:RequestTimeout</c>.
/// <para>
/// The deadline is a token linked to the client's, installed as <see cref="HttpContext.RequestAborted"/>, so everything
/// the handler passes it to (body reading, the scheduler's job) is cancelled when it fires; the scheduler frees a
/// cancelled job's sequences at its next step. Before the response starts, the client gets 504 DEADLINE_EXCEEDED;
/// a stream already started ends with that error in-band (the streaming handlers ask <see cref="RequestDeadline"/>).
/// </para>
/// </summary>
public sealed class ModelRequestLimitsMiddleware(RequestDelegate next, ConcurrencyLimiter limiter)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<ModelRequestMetadata>() is null || context.Features.Get<CallerFeature>() is not { } caller)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        IDisposable lease;
        try
        {
            lease = limiter.Enter(caller.Caller);
        }
        catch (CastorException)
        {
            await RequestBody.DiscardAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
            throw;
        }
        using var _ = lease;
        var client = context.RequestAborted;
        var timeout = limiter.Settings.RequestTimeout;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(client);
        deadline.CancelAfter(timeout);
        var feature = new RequestDeadline(client, deadline.Token, timeout);
        context.Features.Set(feature);
        context.RequestAborted = deadline.Token;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (feature.Expired && ex is OperationCanceledException or IOException)
        {
            context.RequestAborted = client;
            if (!context.Response.HasStarted) throw feature.Error;
            // The handler could not end its stream in-band; cutting the connection is the only signal left.
            context.Abort();
        }
        finally
        {
            context.RequestAborted = client;
        }
    }
}

/// <summary>A model request's deadline (see <see cref="ModelRequestLimitsMiddleware"/>).</summary>
public sealed class RequestDeadline(CancellationToken client, CancellationToken deadline, TimeSpan timeout)
{
    /// <summary>The client's own abort token: what writes after the deadline must use, since the request's token has fired.</summary>
    public CancellationToken Client { get; } = client;

    /// <summary>True once the deadline fired while the client was still connected.</summary>
    public bool Expired => deadline.IsCancellationRequested && !Client.IsCancellationRequested;

    public CastorException Error => new(ErrorStatus.DeadlineExceeded,
        $"The request did not finish within the server's time limit of {Describe(timeout)} (Limits:RequestTimeout) and was cancelled.");

    /// <summary>
    /// For a streaming handler: the error to send in-band when <paramref name="exception"/> is the deadline firing
    /// (or already an API error), else null; and the token to write it with.
    /// </summary>
    public static (CastorException? Error, CancellationToken WriteToken) InBand(HttpContext context, Exception exception)
    {
        var deadline = context.Features.Get<RequestDeadline>();
        var token = deadline?.Client ?? context.RequestAborted;
        return exception switch
        {
            CastorException api => (api, token),
            OperationCanceledException when deadline is { Expired: true } => (deadline.Error, token),
            _ => (null, token),
        };
    }

    private static string Describe(TimeSpan t) =>
        t.TotalMinutes >= 1 && t.Seconds == 0 && t.Milliseconds == 0 ? $"{t.TotalMinutes:0} min" :
        t.TotalSeconds >= 1 && t.Milliseconds == 0 ? $"{t.TotalSeconds:0} s" : $"{t.TotalMilliseconds:0} ms";
}
