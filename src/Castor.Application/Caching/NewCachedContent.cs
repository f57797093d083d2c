using Castor.Application.Generation;
using Castor.Application.Tools;

namespace Castor.Application.Caching;

/// <summary>
/// A cachedContents.create request: the prefix (system instruction, tools, tool config, contents), the model it is for,
/// and its lifetime as the wire gives it (<see cref="Ttl"/> a duration such as <c>"300s"</c>, or <see cref="ExpireTime"/>
/// RFC 3339 with a zone; neither means one hour).
/// </summary>
public sealed record NewCachedContent
{
    public required string Model { get; init; }
    public IReadOnlyList<Content> Contents { get; init; } = [];
    public Content? SystemInstruction { get; init; }
    public IReadOnlyList<FunctionDeclaration> Tools { get; init; } = [];
    public ToolChoice? ToolChoice { get; init; }
    public string? DisplayName { get; init; }
    public string? Ttl { get; init; }
    public string? ExpireTime { get; init; }
}
