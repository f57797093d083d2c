using Castor.Application.Errors;
using Castor.Application.Keys;

namespace Castor.Application.Limits;

/// <summary>
/// Limits how many model requests (generation, embeddings, countTokens) one key and one project may have in flight
/// at once, so one caller cannot hold every sequence and fill the wait queue while other projects get 503s or wait.
/// A request over either limit is refused at once with 429 RESOURCE_EXHAUSTED, before any work, and the caller may
/// retry when one of its requests ends; requests of other keys and projects are not affected.
/// </summary>
public sealed class ConcurrencyLimiter(RequestLimitSettings settings)
{
    /// <summary>How long a refused client is told to wait; a slot frees as soon as one of its requests ends.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, int> _perKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _perProject = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public RequestLimitSettings Settings => settings;

    /// <summary>Takes a place for <paramref name="caller"/>; dispose the lease when the request ends, however it ends.</summary>
    public IDisposable Enter(Caller caller)
    {
        lock (_lock)
        {
            var key = _perKey.GetValueOrDefault(caller.KeyId);
            var project = _perProject.GetValueOrDefault(caller.ProjectId);
            if (key >= settings.MaxConcurrentRequestsPerKey)
                throw Exhausted("ConcurrentRequestsPerKey",
                    $"Too many concurrent requests for this API key: at most {settings.MaxConcurrentRequestsPerKey} may run at once (Limits:MaxConcurrentRequestsPerKey).");
            if (project >= settings.MaxConcurrentRequestsPerProject)
                throw Exhausted("ConcurrentRequestsPerProject",
                    $"Too many concurrent requests for project '{caller.ProjectName}': at most {settings.MaxConcurrentRequestsPerProject} may run at once (Limits:MaxConcurrentRequestsPerProject).");
            _perKey[caller.KeyId] = key + 1;
            _perProject[caller.ProjectId] = project + 1;
        }
        return new Lease(this, caller);
    }

    /// <summary>Requests in flight for a key (for tests and diagnostics).</summary>
    public int InFlightForKey(string keyId)
    {
        lock (_lock) return _perKey.GetValueOrDefault(keyId);
    }

    private void Leave(Caller caller)
    {
        lock (_lock)
        {
            Decrement(_perKey, caller.KeyId);
            Decrement(_perProject, caller.ProjectId);
        }
    }

    // Entries at zero are removed, so the maps hold only callers with requests in flight.
    private static void Decrement(Dictionary<string, int> counts, string id)
    {
        var n = counts.GetValueOrDefault(id) - 1;
        if (n <= 0) counts.Remove(id); else counts[id] = n;
    }

    private static CastorException Exhausted(string quotaId, string description) =>
        // "try again in 1s" is the phrase LangChain's client looks for before it retries a 429.
        new(ErrorStatus.ResourceExhausted, $"Resource has been exhausted: {description} Please try again in {RetryAfter.TotalSeconds:0}s, when one of them has finished.",
            new QuotaViolation("castor/concurrent_requests", quotaId, description), new RetryDelay(RetryAfter));

    private sealed class Lease(ConcurrencyLimiter owner, Caller caller) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) owner.Leave(caller);
        }
    }
}
