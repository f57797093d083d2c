using Castor.Application.Keys;

namespace Castor.Application.Generation;

/// <summary>
/// A generation service that passes every call to an inner one; derive from it and override what a wrapper changes
/// (usage metering, quotas, a remote backend), as Microsoft.Extensions.AI's <c>DelegatingChatClient</c> does.
/// </summary>
public abstract class DelegatingGenerationService(IGenerationService inner) : IGenerationService
{
    /// <summary>The service calls are passed to.</summary>
    protected IGenerationService Inner { get; } = inner ?? throw new ArgumentNullException(nameof(inner));

    public virtual Task<GenerationStream> StartAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken) =>
        Inner.StartAsync(caller, request, cancellationToken);

    public virtual Task<GenerationResult> GenerateAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken) =>
        Inner.GenerateAsync(caller, request, cancellationToken);

    public virtual Task<int> CountTokensAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken) =>
        Inner.CountTokensAsync(caller, request, cancellationToken);

    public virtual Task<PromptTokenCounts> CountPromptTokensAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken) =>
        Inner.CountPromptTokensAsync(caller, request, cancellationToken);
}
