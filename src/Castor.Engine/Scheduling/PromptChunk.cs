namespace Castor.Engine.Scheduling;

/// <summary>
/// One run of a prompt's positions in the KV cache: text tokens (<see cref="TokenRun"/>) or a media item
/// (<see cref="MediaPlaceholder"/>) whose positions an image or audio encoder fills.
/// </summary>
public abstract record PromptChunk
{
    /// <summary>KV positions this chunk occupies.</summary>
    public abstract int Length { get; }
}
