using Castor.Engine.Media;

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
            switch (chunk)
            {
                case TokenRun run:
                    TextTokens += run.Tokens.Count;
                    break;
                case MediaPlaceholder media:
                    HasMedia = true;
                    if (media.Modality == MediaModality.Audio) AudioTokens += media.Tokens;
                    else ImageTokens += media.Tokens;
                    break;
            }
        }
    }

    public static EnginePrompt FromTokens(IReadOnlyList<int> tokens) => new([new TokenRun(tokens)]);

    public IReadOnlyList<PromptChunk> Chunks { get; }

    /// <summary>KV positions the whole prompt occupies.</summary>
    public int Length { get; }

    /// <summary>True when some chunk needs a media encoder to fill its positions.</summary>
    public bool HasMedia { get; }

    /// <summary>Tokens by modality, as the engine evaluates them (the API's promptTokensDetails).</summary>
    public int TextTokens { get; }
    public int ImageTokens { get; }
    public int AudioTokens { get; }

    /// <summary>Every token the prompt costs: text and media together.</summary>
    public int TokenCount => TextTokens + ImageTokens + AudioTokens;

    /// <summary>
    /// Tokens in the first <paramref name="positions"/> positions (what a reused prefix saved): the same number for text,
    /// and an M-RoPE item's tokens for its fewer positions. Media are counted whole (a prefix never ends inside one).
    /// </summary>
    public int TokensWithin(int positions)
    {
        if (!HasMedia) return positions;
        var tokens = 0;
        var at = 0;
        foreach (var chunk in Chunks)
        {
            if (at >= positions) break;
            var take = Math.Min(chunk.Length, positions - at);
            tokens += chunk is MediaPlaceholder media && take == media.Positions ? media.Tokens : take;
            at += chunk.Length;
        }
        return tokens;
    }

    /// <summary>This prompt followed by more text tokens (a thought marker closed in the prompt).</summary>
    public EnginePrompt Append(IReadOnlyList<int> tokens) => tokens.Count == 0 ? this : new([.. Chunks, new TokenRun(tokens)]);
}
