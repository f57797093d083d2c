namespace Castor.Api.Gemini.Wire;

// Wire types of cachedContents (create, get, list, patch, delete).

/// <summary>The API's <c>CachedContent</c> resource: what create and patch take, and (without the contents) what every method answers.</summary>
public sealed class CachedContentResource
{
    public string? Name { get; set; }
    public string? Model { get; set; }
    public string? DisplayName { get; set; }
    public List<Content>? Contents { get; set; }
    public Content? SystemInstruction { get; set; }
    public List<Tool?>? Tools { get; set; }
    public ToolConfig? ToolConfig { get; set; }

    /// <summary>A duration such as <c>"300s"</c>; input only.</summary>
    public string? Ttl { get; set; }
    public string? ExpireTime { get; set; }
    public string? CreateTime { get; set; }
    public string? UpdateTime { get; set; }
    public CachedContentUsageMetadata? UsageMetadata { get; set; }
}

/// <summary>A cached content's <c>usageMetadata</c>.</summary>
public sealed class CachedContentUsageMetadata
{
    public int TotalTokenCount { get; set; }
}

/// <summary>cachedContents.list: <c>nextPageToken</c> is omitted on the last page (an empty one makes @google/genai loop).</summary>
public sealed class ListCachedContentsResponse
{
    public List<CachedContentResource>? CachedContents { get; set; }
    public string? NextPageToken { get; set; }
}
