namespace Castor.Application.Embeddings;

/// <summary>The vectors of an embedContent (one) or batchEmbedContents (one per request, in order) call.</summary>
/// <param name="ModelId">The model that computed them (after alias resolution).</param>
/// <param name="PromptTokenCount">Tokens the model read, task prompts and special tokens included, after truncation.</param>
public sealed record EmbeddingResult(string ModelId, IReadOnlyList<float[]> Embeddings, int PromptTokenCount);
