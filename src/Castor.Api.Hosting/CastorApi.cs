using Castor.Application.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Castor.Api.Hosting;

/// <summary>The HTTP pipeline both adapters' routes run behind: one registration, one <c>UseCastorApi()</c>.</summary>
public static class CastorApi
{
    /// <summary>
    /// Registers <see cref="ApiSurface"/>; <paramref name="defaultErrorWriter"/> shapes errors on paths no adapter owns
    /// (Castor passes the Gemini adapter's, the API it is).
    /// </summary>
    public static IServiceCollection AddCastorApi(this IServiceCollection services, IApiErrorWriter? defaultErrorWriter = null)
    {
        var surface = new ApiSurface();
        if (defaultErrorWriter is not null) surface.DefaultErrorWriter = defaultErrorWriter;
        services.AddSingleton(surface);
        services.TryAddSingleton<ServerDrain>();
        services.TryAddSingleton<RequestLogSettings>();
        return services;
    }

    /// <summary>
    /// Error shaping and logging, status pages in the owner's shape, the key check (deny by default) and model-request
    /// limits; add before mapping routes. Routing runs first (WebApplication puts it at the start), so each step sees the
    /// matched endpoint and its metadata.
    /// </summary>
    public static IApplicationBuilder UseCastorApi(this IApplicationBuilder app)
    {
        // Outermost: the log line and the request counter see the final status; then the drain refuses new work.
        app.UseMiddleware<RequestLogMiddleware>();
        app.UseMiddleware<DrainMiddleware>();
        app.UseMiddleware<ApiErrorMiddleware>();
        app.UseStatusCodePages(async ctx =>
        {
            // Routing answers unknown paths and wrong methods with an empty 404/405; give them the owner's shape too.
            var http = ctx.HttpContext;
            var error = http.Response.StatusCode == StatusCodes.Status405MethodNotAllowed
                ? new CastorException(ErrorStatus.NotFound, $"{http.Request.Method} is not supported for {http.Request.Path}.")
                : CastorException.NotFound($"The requested URL {http.Request.Path} was not found on this server.");
            await ApiErrors.WriteAsync(http, error);
        });
        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseMiddleware<ModelRequestLimitsMiddleware>();
        return app;
    }
}
