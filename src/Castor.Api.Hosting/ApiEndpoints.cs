using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.Api.Hosting;

public static class ApiEndpoints
{
    /// <summary>
    /// A route group of an API surface: every route in it answers errors through <paramref name="errors"/>, and, like every
    /// route, needs a key unless it is marked <c>AllowAnonymous()</c>. The prefix is recorded in <see cref="ApiSurface"/>, so
    /// unmatched paths under it are treated as this adapter's too.
    /// </summary>
    public static RouteGroupBuilder MapApiGroup(this IEndpointRouteBuilder routes, string prefix, IApiErrorWriter errors)
    {
        routes.ServiceProvider.GetRequiredService<ApiSurface>().Add(prefix, errors);
        var group = routes.MapGroup(prefix);
        group.WithMetadata(errors);
        return group;
    }

    /// <summary>Describes the body the endpoint reads as <paramref name="body"/> in the OpenAPI document (no routing constraint).</summary>
    public static TBuilder ReadsBody<TBuilder>(this TBuilder builder, Type body) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequestBodyMetadata(body));

    /// <summary>
    /// Describes a catch-all route in the OpenAPI document as the operations it dispatches to (one per custom method or
    /// sub-resource) instead of one operation on its raw pattern. No routing effect.
    /// </summary>
    public static TBuilder DescribedAs<TBuilder>(this TBuilder builder, IReadOnlyList<DescribedOperation> operations) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new DescribedOperationsMetadata(operations));

    /// <summary>Marks an endpoint as a model request: per-key and per-project concurrency limits and the request deadline apply.</summary>
    public static TBuilder LimitedAsModelRequest<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(ModelRequestMetadata.Instance);
}
