using Castor.Application.Keys;

namespace Castor.Application.Caching;

/// <summary>The cachedContents resource of the caller's project, and the resolution a generation (or a batch request) needs.</summary>
public interface ICachedContentService
{
    Task<CachedContent> CreateAsync(Caller caller, NewCachedContent request, CancellationToken cancellationToken);

    Task<CachedContent> GetAsync(Caller caller, string name, CancellationToken cancellationToken);

    Task<CachedContentPage> ListAsync(Caller caller, int? pageSize, string? pageToken, CancellationToken cancellationToken);

    Task<CachedContent> UpdateAsync(Caller caller, string name, CachedContentUpdate update, CancellationToken cancellationToken);

    Task DeleteAsync(Caller caller, string name, CancellationToken cancellationToken);

    /// <summary>
    /// The prefix a request naming <paramref name="name"/> (<c>cachedContents/{id}</c>) starts with, for the caller's
    /// project; <paramref name="field"/> names the request field in errors. Unknown, expired and other projects' caches
    /// are refused alike (403), as the API does.
    /// </summary>
    Task<ResolvedCachedContent> ResolveAsync(Caller caller, string name, string field, CancellationToken cancellationToken);
}
