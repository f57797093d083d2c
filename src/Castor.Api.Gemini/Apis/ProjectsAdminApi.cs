using System.Globalization;
using Castor.Api.Gemini.Wire;
using Castor.Application.Errors;
using Castor.Application.Quotas;
using Castor.Storage.Quotas;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Castor.Api.Gemini.Apis;

/// <summary>
/// Projects and their usage tiers through the API (admin keys only; others get 403), the same operations as
/// <c>castor projects create|list|set-tier</c>: <c>GET /v1beta/castor/projects</c>, <c>POST /v1beta/castor/projects</c>
/// (<c>{"name", "tier"}</c>) and <c>PATCH /v1beta/castor/projects/{name}</c> (<c>{"tier"}</c>; null or <c>"default"</c>
/// puts the project back on the default tier).
/// </summary>
internal static class ProjectsAdminApi
{
    public static void MapProjectsAdminApi(this RouteGroupBuilder group)
    {
        group.MapGet("/castor/projects", ListAsync).Produces<ListProjectsResponse>().WithSummary("castor.projects.list: projects and their rate-limit tiers (admin keys).");
        group.MapPost("/castor/projects", CreateAsync).ReadsBody(typeof(ProjectRequest)).Produces<ProjectResource>().WithSummary("castor.projects.create (admin keys).");
        group.MapPatch("/castor/projects/{name}", SetTierAsync).ReadsBody(typeof(ProjectRequest)).Produces<ProjectResource>()
            .WithSummary("castor.projects.patch: a project's tier (admin keys).");
    }

    private static async Task<IResult> ListAsync(HttpContext context, ProjectService projects)
    {
        context.Caller().RequireAdmin();
        var all = await projects.ListAsync(context.RequestAborted).ConfigureAwait(false);
        return Results.Json(new ListProjectsResponse { Projects = all.Select(p => ToWire(p, projects)).ToList() }, UsageAdminJsonContext.Default.ListProjectsResponse);
    }

    private static async Task<IResult> CreateAsync(HttpContext context, ProjectService projects)
    {
        context.Caller().RequireAdmin();
        var wire = await RequestBody.ReadAsync(context.Request, UsageAdminJsonContext.Default.ProjectRequest).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(wire.Name)) throw CastorException.InvalidField("name", "a project needs a name.");
        var tier = Tier(wire.Tier);
        bool created;
        try
        {
            created = await projects.CreateAsync(wire.Name, tier, context.RequestAborted).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            throw CastorException.InvalidField(ex.Message.Contains("tier", StringComparison.Ordinal) ? "tier" : "name", ex.Message);
        }
        if (!created) throw new CastorException(ErrorStatus.AlreadyExists, $"A project named '{wire.Name}' exists already; change its tier with PATCH castor/projects/{wire.Name}.");
        return Results.Json(await FindAsync(projects, wire.Name, context.RequestAborted).ConfigureAwait(false), UsageAdminJsonContext.Default.ProjectResource);
    }

    private static async Task<IResult> SetTierAsync(HttpContext context, string name, ProjectService projects)
    {
        context.Caller().RequireAdmin();
        var wire = await RequestBody.ReadAsync(context.Request, UsageAdminJsonContext.Default.ProjectRequest).ConfigureAwait(false);
        bool changed;
        try
        {
            changed = await projects.SetTierAsync(name, Tier(wire.Tier), context.RequestAborted).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            throw CastorException.InvalidField("tier", ex.Message);
        }
        if (!changed) throw CastorException.NotFound($"No project is named '{name}'.");
        return Results.Json(await FindAsync(projects, name, context.RequestAborted).ConfigureAwait(false), UsageAdminJsonContext.Default.ProjectResource);
    }

    /// <summary>"default" (as the CLI's set-tier takes it) and null both mean the configured default tier.</summary>
    private static string? Tier(string? tier) => string.IsNullOrWhiteSpace(tier) || tier == "default" ? null : tier;

    private static async Task<ProjectResource> FindAsync(ProjectService projects, string name, CancellationToken cancellationToken)
    {
        var all = await projects.ListAsync(cancellationToken).ConfigureAwait(false);
        return ToWire(all.First(p => p.Name == name), projects);
    }

    private static ProjectResource ToWire(ProjectListing project, ProjectService projects) => new()
    {
        Name = project.Name,
        Tier = project.Tier,
        EffectiveTier = projects.EffectiveTier(project),
        CreateTime = project.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        ActiveKeys = project.ActiveKeys,
    };
}
