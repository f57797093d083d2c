using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;

namespace Castor.Server;

/// <summary>
/// The web console at <c>/console</c>: static pages (HTML, ES modules, CSS) embedded in this assembly, which sign in with an
/// API key and talk to the server's own public Gemini routes like any other client. The branch runs before routing, so
/// the console is not an API route: no key is needed to load the page, and no endpoint of it appears among the API's.
/// </summary>
public static class WebConsole
{
    /// <summary>Where the console is served.</summary>
    public const string Path = "/console";

    /// <summary>
    /// Only this origin: the page must not leak the key to anyone else (no CDN, no third-party fetch, no inline script
    /// an injected string could become), and may not be framed by another site.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Serves the console's files under <see cref="Path"/>; call before routing.</summary>
    public static IApplicationBuilder UseWebConsole(this IApplicationBuilder app)
    {
        var files = new ManifestEmbeddedFileProvider(typeof(WebConsole).Assembly, "WebConsole");
        app.Map(Path, console =>
        {
            console.Use(async (context, next) =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                // A new binary may bring new modules: revalidate (the ETag makes that a 304) rather than mix versions.
                headers.CacheControl = "no-cache";
                await next(context).ConfigureAwait(false);
            });
            // "/console" has no trailing slash, and the page's relative module paths need one.
            console.Use(async (context, next) =>
            {
                if (!context.Request.Path.HasValue)
                {
                    context.Response.Redirect(context.Request.PathBase + "/" + context.Request.QueryString);
                    return;
                }
                await next(context).ConfigureAwait(false);
            });
            console.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            console.UseStaticFiles(new StaticFileOptions { FileProvider = files });
            console.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
        });
        return app;
    }
}
