namespace Castor.Application.Caching;

/// <summary>The <c>Caches</c> section: where snapshots live and how much room they get.</summary>
public sealed class CacheSettings
{
    /// <summary>The default minimum size of a cached content, as the API's 2.5 Flash (per model: <c>ModelSettings:{id}:MinCacheTokens</c>).</summary>
    public const int DefaultMinCacheTokens = 1024;

    /// <summary>Bytes of KV snapshots kept in memory (least recently used leave first), and again the most kept on disk.</summary>
    public long MaxBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>How often expired caches and their snapshots are removed.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Per model id, the minimum tokens of a cached content (from <c>ModelSettings:{id}:MinCacheTokens</c>).</summary>
    public Dictionary<string, int> MinCacheTokens { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public int MinCacheTokensFor(string modelId) => MinCacheTokens.TryGetValue(modelId, out var n) ? n : DefaultMinCacheTokens;
}
