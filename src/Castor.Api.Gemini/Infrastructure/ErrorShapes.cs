using Castor.Application.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.Api.Gemini.Infrastructure;

/// <summary>
/// An error body format other than Google's RPC shape, for the paths another wire owns (the OpenAI-compatible
/// routes answer <c>{"error":{"message","type","param","code"}}</c>). Registered in DI; the error middleware, the
/// status pages and the key check all write through <see cref="ErrorShapes"/>, so a path gets one shape everywhere.
/// </summary>
public interface IErrorShape
{
    bool Owns(HttpRequest request);
    Task WriteAsync(HttpContext context, CastorException error);
}

public static class ErrorShapes
{
    public static Task WriteAsync(HttpContext context, CastorException error)
    {
        foreach (var shape in context.RequestServices.GetServices<IErrorShape>())
            if (shape.Owns(context.Request)) return shape.WriteAsync(context, error);
        return GeminiErrors.WriteAsync(context, error);
    }
}
