using Castor.Application.Errors;
using Castor.Application.Limits;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.Hosting;

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
        var feature = new RequestDeadline(timeout, client, deadline.Token);
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
