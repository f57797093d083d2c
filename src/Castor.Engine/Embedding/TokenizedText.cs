namespace Castor.Engine.Embedding;

/// <summary>One text as the model will see it: its token ids (special tokens included, at most the model's limit).</summary>
/// <param name="Truncated">The text was longer than the model's limit, and its end was cut off (the closing special token is kept).</param>
public sealed record TokenizedText(int[] Tokens, bool Truncated)
{
    public int Count => Tokens.Length;
}
