namespace Castor.Application.Caching;

/// <summary>
/// A cachedContents.patch request: the new <see cref="Ttl"/> or <see cref="ExpireTime"/>, the <see cref="UpdateMask"/>
/// when the client sent one (<c>@google/genai</c> sends none), and the other fields the body set
/// (<see cref="OtherFields"/>), which cannot change.
/// </summary>
public sealed record CachedContentUpdate
{
    public string? Ttl { get; init; }
    public string? ExpireTime { get; init; }
    public string? UpdateMask { get; init; }
    public IReadOnlyList<string> OtherFields { get; init; } = [];
}
