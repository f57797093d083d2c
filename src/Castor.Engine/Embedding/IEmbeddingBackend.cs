namespace Castor.Engine.Embedding;

/// <summary>
/// Computes pooled, unnormalized vectors for tokenized texts. <see cref="Tokenize"/> may be called from any thread;
/// <see cref="Compute"/> is called by one <see cref="EmbeddingBatcher"/> thread only, so a backend that owns a native
/// context needs no locking around it.
/// </summary>
public interface IEmbeddingBackend : IDisposable
{
    EmbeddingBatchLimits Limits { get; }

    /// <summary>The text's tokens with the model's special tokens, cut to at most <paramref name="maxTokens"/>.</summary>
    TokenizedText Tokenize(string text, int maxTokens);

    /// <summary>One vector per sequence, in order. Every sequence fits <see cref="Limits"/> together.</summary>
    float[][] Compute(IReadOnlyList<int[]> sequences);
}
