using Castor.Application.Errors;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.Hosting;

/// <summary>
/// An adapter's error body format: the Gemini adapter writes Google's RPC shape, the OpenAI-compatible one
/// <c>{"error":{"message","type","param","code"}}</c>. An adapter attaches its writer to the routes it maps
/// (<see cref="ApiEndpoints.MapApiGroup"/>); the error middleware, the status pages and the key check all write through
/// <see cref="ApiErrors"/>, so a route gets one shape everywhere.
/// </summary>
public interface IApiErrorWriter
{
    /// <summary>The HTTP status this wire answers <paramref name="error"/> with.</summary>
    int HttpStatus(CastorException error);

    /// <summary>The error body as UTF-8 JSON on one line (also what a stream sends in-band once its status has gone out).</summary>
    byte[] ToJson(CastorException error);

    /// <summary>
    /// The wire type that describes <see cref="ToJson"/>'s body in the OpenAPI document (every operation's error
    /// responses); null when the writer has none, and the document shows no error body.
    /// </summary>
    Type? ErrorBodyType => null;

    async Task WriteAsync(HttpContext context, CastorException error)
    {
        var response = context.Response;
        response.StatusCode = HttpStatus(error);
        response.ContentType = "application/json; charset=UTF-8";
        await response.Body.WriteAsync(ToJson(error), context.RequestAborted).ConfigureAwait(false);
    }
}
