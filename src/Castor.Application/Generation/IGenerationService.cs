using Castor.Application.Keys;

namespace Castor.Application.Generation;

/// <summary>
/// generateContent, streamGenerateContent and countTokens as every protocol adapter calls them. The caller is the
/// identity the request was authenticated as; files resolve in its project and resident prompts are shared only within it.
/// Wrap it with <see cref="DelegatingGenerationService"/> to add metering, quotas or routing.
/// </summary>
public interface IGenerationService
{
    /// <summary>Validates and submits a request; everything that can be refused is refused before the stream is returned.</summary>
    Task<GenerationStream> StartAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken);

    /// <summary>Runs a request to completion.</summary>
    Task<GenerationResult> GenerateAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken);

    /// <summary>Counts the prompt tokens a generateContent call would use.</summary>
    Task<int> CountTokensAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken);

    /// <summary>The prompt tokens by modality (countTokens' promptTokensDetails); a service that does not say counts all as text.</summary>
    async Task<PromptTokenCounts> CountPromptTokensAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken) =>
        new(await CountTokensAsync(caller, request, cancellationToken).ConfigureAwait(false));
}
