using System.Globalization;
using Castor.Api.Gemini.Wire;
using Castor.Application.Errors;
using Castor.Application.Keys;
using Castor.Application.Metering;
using Castor.Storage.Keys;
using Castor.Storage.Metering;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Castor.Api.Gemini.Apis;

/// <summary>
/// Castor's own admin routes under <c>/v1beta/castor</c>: <c>GET usage</c> (an admin key reads any project's usage, any
/// other key its own project's), <c>GET|POST keys</c> and <c>DELETE keys/{id}</c> (admin keys only). Errors in the
/// Gemini API's shape, like every route of the group.
/// </summary>
internal static class UsageAdminApi
{
    public static void MapUsageAdminApi(this RouteGroupBuilder group)
    {
        group.MapGet("/castor/usage", ReadUsageAsync).Produces<UsageReportResponse>().WithSummary("castor.usage: metered usage by project, model, key or day (admin keys).");
        group.MapGet("/castor/keys", ListKeysAsync).Produces<ListApiKeysResponse>().WithSummary("castor.keys.list (admin keys).");
        group.MapPost("/castor/keys", CreateKeyAsync).ReadsBody(typeof(CreateKeyRequest)).Produces<ApiKeyResource>()
            .WithSummary("castor.keys.create: a new key, shown once (admin keys).");
        group.MapDelete("/castor/keys/{id}", RevokeKeyAsync).Produces<EmptyResponse>().WithSummary("castor.keys.revoke (admin keys).");
    }

    private static async Task<IResult> ReadUsageAsync(HttpContext context, UsageReports reports, TimeProvider clock)
    {
        var query = context.Request.Query;
        var now = clock.GetUtcNow();
        var since = Time(query, "since", now) ?? now - UsageReports.DefaultPeriod;
        var until = Time(query, "until", now) ?? now;
        if (!UsageReports.TryParseDimension(query["by"], out var by))
            throw CastorException.InvalidArgument($"by '{query["by"]}' is not one of {UsageReports.DimensionNames}.");
        var project = string.IsNullOrWhiteSpace(query["project"]) ? null : query["project"].ToString();
        var report = await reports.ReadAsync(context.Caller(), new UsageQuery(project, since, until, by), context.RequestAborted).ConfigureAwait(false);
        return Results.Json(new UsageReportResponse
        {
            Project = report.Query.ProjectName,
            Since = Text(UsageBucket.HourOf(report.Query.Since)),
            Until = Text(report.Query.Until),
            By = by.ToString().ToLowerInvariant(),
            Rows = report.Rows.Select(ToWire).ToList(),
            Total = ToWire(report.Total),
        }, UsageAdminJsonContext.Default.UsageReportResponse);
    }

    private static async Task<IResult> ListKeysAsync(HttpContext context, ApiKeyService keys)
    {
        context.Caller().RequireAdmin();
        var project = string.IsNullOrWhiteSpace(context.Request.Query["project"]) ? null : context.Request.Query["project"].ToString();
        var all = await keys.ListAsync(project, context.RequestAborted).ConfigureAwait(false);
        return Results.Json(new ListApiKeysResponse { Keys = all.Select(ToWire).ToList() }, UsageAdminJsonContext.Default.ListApiKeysResponse);
    }

    private static async Task<IResult> CreateKeyAsync(HttpContext context, ApiKeyService keys)
    {
        context.Caller().RequireAdmin();
        var wire = await RequestBody.ReadAsync(context.Request, UsageAdminJsonContext.Default.CreateKeyRequest).ConfigureAwait(false);
        var project = string.IsNullOrWhiteSpace(wire.Project) ? ApiKeyService.DefaultProject : wire.Project;
        CreatedKey created;
        try
        {
            created = await keys.CreateKeyAsync(project, wire.DisplayName, wire.Admin ?? false, context.RequestAborted).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            throw CastorException.InvalidField("project", ex.Message);
        }
        return Results.Json(new ApiKeyResource
        {
            Id = created.Id,
            Project = created.Project,
            Key = created.Key,
            DisplayName = wire.DisplayName,
            Admin = created.Admin,
            Hint = created.Hint,
            CreateTime = Text(created.CreatedAt),
        }, UsageAdminJsonContext.Default.ApiKeyResource);
    }

    private static async Task<IResult> RevokeKeyAsync(HttpContext context, string id, ApiKeyService keys)
    {
        if (!await keys.RevokeByAsync(context.Caller(), id, context.RequestAborted).ConfigureAwait(false))
            throw CastorException.NotFound($"No active key has the id '{id}'.");
        return Results.Json(new EmptyResponse(), UsageAdminJsonContext.Default.EmptyResponse);
    }

    private static DateTimeOffset? Time(IQueryCollection query, string name, DateTimeOffset now)
    {
        var text = query[name].ToString();
        if (string.IsNullOrWhiteSpace(text)) return null;
        return UsageReports.TryParseTime(text, now, out var time)
            ? time
            : throw CastorException.InvalidArgument($"{name} '{text}' is not a date (2026-12-01), an RFC 3339 time or a period such as 7d or 24h.");
    }

    private static UsageReportRowWire ToWire(UsageReportRow row)
    {
        var c = row.Counts;
        List<ModalityTokenCountWire> details = [];
        if (c.PromptTextTokens > 0) details.Add(new ModalityTokenCountWire { Modality = "TEXT", TokenCount = c.PromptTextTokens });
        if (c.PromptImageTokens > 0) details.Add(new ModalityTokenCountWire { Modality = "IMAGE", TokenCount = c.PromptImageTokens });
        if (c.PromptAudioTokens > 0) details.Add(new ModalityTokenCountWire { Modality = "AUDIO", TokenCount = c.PromptAudioTokens });
        return new UsageReportRowWire
        {
            Group = row.Group,
            Requests = c.Requests,
            Errors = row.Errors,
            PromptTokenCount = c.PromptTokens,
            CachedContentTokenCount = c.CachedContentTokens,
            CandidatesTokenCount = c.CandidatesTokens,
            ThoughtsTokenCount = c.ThoughtsTokens,
            ToolUsePromptTokenCount = c.ToolUsePromptTokens,
            TotalTokenCount = c.TotalTokens,
            PromptTokensDetails = details.Count == 0 ? null : details,
            AverageLatencyMs = c.Requests == 0 ? 0 : Math.Round(c.LatencyMilliseconds / (double)c.Requests, 1),
            EstimatedCostUsd = row.EstimatedCost is { } cost ? Math.Round(cost, 6) : null,
        };
    }

    private static ApiKeyResource ToWire(KeyListing key) => new()
    {
        Id = key.Id,
        Project = key.ProjectName,
        Hint = key.Hint,
        DisplayName = key.DisplayName,
        Admin = key.Admin,
        CreateTime = Text(key.CreatedAt),
        RevokeTime = key.RevokedAt is { } revoked ? Text(revoked) : null,
    };

    private static string Text(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
