namespace Castor.Engine.Embedding;

/// <summary>What an embedding model is, as the registry and models.list describe it.</summary>
/// <param name="Id">The model id clients name (lowercase).</param>
/// <param name="Dimensions">Length of the vectors the model produces.</param>
/// <param name="MaxTokens">Tokens one text may use, special tokens included; longer texts are truncated.</param>
/// <param name="Architecture">The GGUF <c>general.architecture</c>, or the built-in model's family.</param>
/// <param name="SourceName">The name the model was published under (GGUF <c>general.name</c> or file name); used to recognise its prompt conventions.</param>
/// <param name="Runtime">What computes it: <c>onnxruntime</c> or <c>llama.cpp</c>.</param>
public sealed record EmbeddingModelInfo(
    string Id,
    string DisplayName,
    string Description,
    int Dimensions,
    int MaxTokens,
    string Architecture,
    string SourceName,
    EmbeddingPooling Pooling,
    string Runtime);
