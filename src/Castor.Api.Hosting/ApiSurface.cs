using Microsoft.AspNetCore.Http;

namespace Castor.Api.Hosting;

/// <summary>
/// The path prefixes the adapters mapped their route groups under, each with its owner's error writer. Filled as the
/// groups are mapped (<see cref="ApiEndpoints.MapApiGroup"/>), never by hand. Requests that matched a route are judged
/// by that route's metadata; this is for the ones that matched none: a mistyped path under <c>/v1beta</c> still needs a
/// key (403 before 404, as Google answers) and gets the owning wire's error shape.
/// </summary>
public sealed class ApiSurface
{
    private readonly List<(PathString Prefix, IApiErrorWriter Writer)> _groups = [];
    private readonly Lock _lock = new();

    /// <summary>The shape for paths no adapter owns (<c>/</c>, <c>/healthz</c>, an unknown path).</summary>
    public IApiErrorWriter DefaultErrorWriter { get; set; } = PlainErrorWriter.Instance;

    public void Add(PathString prefix, IApiErrorWriter writer)
    {
        lock (_lock) _groups.Add((prefix, writer));
    }

    /// <summary>The writer of the longest mapped prefix that <paramref name="path"/> lies under, or null when it is under none.</summary>
    public IApiErrorWriter? OwnerOf(PathString path)
    {
        IApiErrorWriter? owner = null;
        var longest = -1;
        lock (_lock)
        {
            // Routing matches paths case-insensitively, so ownership must too, or /V1BETA/... would skip the key check.
            foreach (var (prefix, writer) in _groups)
            {
                if (prefix.Value!.Length > longest && path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase))
                {
                    owner = writer;
                    longest = prefix.Value.Length;
                }
            }
        }
        return owner;
    }
}
