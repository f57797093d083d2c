namespace Castor.Application.Limits;

/// <summary>Server-wide limits on what one request, one key and one project may hold (configured as <c>Limits:*</c>).</summary>
public sealed record RequestLimitSettings
{
    /// <summary>Model requests (generation, embeddings, countTokens) one key may have in flight.</summary>
    public int MaxConcurrentRequestsPerKey { get; set; } = 8;

    /// <summary>Model requests all keys of one project together may have in flight.</summary>
    public int MaxConcurrentRequestsPerProject { get; set; } = 16;

    /// <summary>How long a model request may run before it is cancelled and answered DEADLINE_EXCEEDED.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Memory the server may spend at once on requests with large JSON bodies, across all requests: each body over
    /// 64 KiB is charged 12× its size (what buffering, parsing, rendering and tokenizing it costs, measured), so the
    /// default 1 GiB admits about four 20 MB bodies at once and refuses the rest with 503 until one ends.
    /// </summary>
    public long RequestBodyMemory { get; set; } = 1024L * 1024 * 1024;

    /// <summary>
    /// The defaults for a server whose busiest model decodes <paramref name="parallel"/> sequences and queues
    /// <paramref name="maxQueue"/> more: a project gets a quarter of that capacity and a key an eighth, so at least four
    /// projects (or two keys of one project) fill it before anyone sees 503, and no single caller can hold it all.
    /// </summary>
    public static (int PerKey, int PerProject) DefaultConcurrency(int parallel, int maxQueue)
    {
        var capacity = Math.Max(1, parallel) + Math.Max(0, maxQueue);
        var perProject = Math.Max(2, capacity / 4);
        var perKey = Math.Max(1, Math.Min(perProject, capacity / 8));
        return (perKey, perProject);
    }
}
