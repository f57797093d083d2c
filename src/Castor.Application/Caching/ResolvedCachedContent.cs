using Castor.Application.Backends;
using Castor.Application.Generation;
using Castor.Application.Tools;

namespace Castor.Application.Caching;

/// <summary>
/// What a request that names a cached content puts before its own contents: the cache's system instruction, tools,
/// tool config and contents, the model it was made for, how many tokens it holds, and its KV snapshot when one fits the
/// model (restored instead of computing those tokens).
/// </summary>
public sealed record ResolvedCachedContent(
    CachedContent Cache,
    IReadOnlyList<Content> Contents,
    Content? SystemInstruction,
    IReadOnlyList<FunctionDeclaration> Tools,
    ToolChoice? ToolChoice,
    KvSnapshot? Snapshot);
