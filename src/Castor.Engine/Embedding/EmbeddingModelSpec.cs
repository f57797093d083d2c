namespace Castor.Engine.Embedding;

/// <summary>A GGUF file to serve as an embedding model, with what configuration says about it.</summary>
/// <param name="Pooling">Overrides the pooling the GGUF declares (<c>{arch}.pooling_type</c>); mean when it declares none.</param>
/// <param name="ContextSize">Tokens one text may use; default the training context, at most <see cref="LlamaEmbedder.DefaultMaxTokens"/>.</param>
public sealed record EmbeddingModelSpec(string Id, string Path, EmbeddingPooling? Pooling = null, int? ContextSize = null, string? DisplayName = null);
