namespace Castor.Application.Backends;

/// <summary>
/// A prompt with media, tokenized by the backend that will run it (<see cref="IModelBackend.TokenizeMediaPrompt"/>):
/// what it costs by modality, exactly as the backend will evaluate it, and the backend's own form of it, which
/// <see cref="BackendRequest.MediaPrompt"/> hands back.
/// </summary>
public abstract class MediaPrompt
{
    public abstract int TextTokens { get; }
    public abstract int ImageTokens { get; }
    public abstract int AudioTokens { get; }
    public int TokenCount => TextTokens + ImageTokens + AudioTokens;

    /// <summary>This prompt followed by more text tokens (a thought marker closed in the prompt).</summary>
    public abstract MediaPrompt Append(IReadOnlyList<int> tokens);
}
