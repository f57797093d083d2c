using Castor.Application.Keys;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.Hosting;

public static class CallerExtensions
{
    /// <summary>The caller <see cref="ApiKeyMiddleware"/> authenticated; every route that is not explicitly anonymous runs behind it.</summary>
    public static Caller Caller(this HttpContext context) =>
        context.Features.Get<CallerFeature>()?.Caller ?? throw new InvalidOperationException("The API key middleware did not run for this request.");
}
