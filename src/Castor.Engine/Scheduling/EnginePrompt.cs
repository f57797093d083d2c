namespace Castor.Engine.Scheduling;

/// <summary>
/// A prompt as the scheduler sees it: chunks of text tokens and media placeholders, in order. A plain token list is
/// one <see cref="TokenRun"/> (<see cref="FromTokens"/>).
/// </summary>
public sealed class EnginePrompt
{
    public EnginePrompt(IReadOnlyList<PromptChunk> chunks)
    {
        Chunks = chunks;
        foreach (var chunk in chunks)
        {
            if (chunk.Length < 0) throw new ArgumentException("A prompt chunk cannot have a negative length.", nameof(chunks));
            Length += chunk.Length;
            HasMedia |= chunk is MediaPlaceholder;
        }
    }

    public static EnginePrompt FromTokens(IReadOnlyList<int> tokens) => new([new TokenRun(tokens)]);

    public IReadOnlyList<PromptChunk> Chunks { get; }

    /// <summary>KV positions the whole prompt occupies.</summary>
    public int Length { get; }

    /// <summary>True when some chunk needs a media encoder to fill its positions.</summary>
    public bool HasMedia { get; }
}
