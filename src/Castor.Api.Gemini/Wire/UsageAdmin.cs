using System.Text.Json.Serialization;

namespace Castor.Api.Gemini.Wire;

/// <summary>
/// <c>GET /v1beta/castor/usage</c>: a Castor extension. Token fields carry the names of the API's <c>usageMetadata</c>.
/// </summary>
internal sealed class UsageReportResponse
{
    public string? Project { get; set; }
    public required string Since { get; set; }
    public required string Until { get; set; }
    public required string By { get; set; }
    public required List<UsageReportRowWire> Rows { get; set; }
    public required UsageReportRowWire Total { get; set; }
}

internal sealed class UsageReportRowWire
{
    /// <summary>The row's model, key id, day, method, project or status (per <c>by</c>); <c>total</c> for the total.</summary>
    public required string Group { get; set; }
    public long Requests { get; set; }
    public long Errors { get; set; }
    public long PromptTokenCount { get; set; }
    public long CachedContentTokenCount { get; set; }
    public long CandidatesTokenCount { get; set; }
    public long ThoughtsTokenCount { get; set; }

    /// <summary>The API's toolUsePromptTokenCount: 0, since Castor runs no server-side tools.</summary>
    public long ToolUsePromptTokenCount { get; set; }
    public long TotalTokenCount { get; set; }
    public List<ModalityTokenCountWire>? PromptTokensDetails { get; set; }
    public double AverageLatencyMs { get; set; }

    /// <summary>Absent when none of the row's models has a price.</summary>
    public decimal? EstimatedCostUsd { get; set; }
}

internal sealed class ModalityTokenCountWire
{
    public required string Modality { get; set; }
    public long TokenCount { get; set; }
}

/// <summary><c>POST /v1beta/castor/keys</c>'s body.</summary>
internal sealed class CreateKeyRequest
{
    public string? Project { get; set; }
    public string? DisplayName { get; set; }
    public bool? Admin { get; set; }
}

/// <summary>A key as the admin API shows it; <see cref="Key"/> (the clear key) only in the answer to its creation.</summary>
internal sealed class ApiKeyResource
{
    public required string Id { get; set; }
    public required string Project { get; set; }
    public string? Key { get; set; }
    public string? Hint { get; set; }
    public string? DisplayName { get; set; }
    public bool Admin { get; set; }
    public string? CreateTime { get; set; }
    public string? RevokeTime { get; set; }
}

internal sealed class ListApiKeysResponse
{
    public required List<ApiKeyResource> Keys { get; set; }
}

/// <summary><c>POST /v1beta/castor/projects</c> and <c>PATCH /v1beta/castor/projects/{name}</c>: a project and its tier.</summary>
internal sealed class ProjectRequest
{
    public string? Name { get; set; }

    /// <summary>A tier of <c>Quotas:Tiers</c>; null or <c>"default"</c>: the configured default tier.</summary>
    public string? Tier { get; set; }
}

/// <summary>A project as the admin API shows it: <see cref="Tier"/> as set (absent: the default), and the tier that applies.</summary>
internal sealed class ProjectResource
{
    public required string Name { get; set; }
    public string? Tier { get; set; }
    public string? EffectiveTier { get; set; }
    public required string CreateTime { get; set; }
    public int ActiveKeys { get; set; }
}

internal sealed class ListProjectsResponse
{
    public required List<ProjectResource> Projects { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(UsageReportResponse))]
[JsonSerializable(typeof(CreateKeyRequest))]
[JsonSerializable(typeof(ApiKeyResource))]
[JsonSerializable(typeof(ListApiKeysResponse))]
[JsonSerializable(typeof(EmptyResponse))]
[JsonSerializable(typeof(ProjectRequest))]
[JsonSerializable(typeof(ProjectResource))]
[JsonSerializable(typeof(ListProjectsResponse))]
internal sealed partial class UsageAdminJsonContext : JsonSerializerContext;
