namespace Castor.Engine.Embedding;

/// <summary>How a model's per-token states become one vector per text.</summary>
public enum EmbeddingPooling
{
    /// <summary>The average over the text's tokens (sentence-transformers, nomic, EmbeddingGemma).</summary>
    Mean,

    /// <summary>The first token's state (<c>[CLS]</c>; bge).</summary>
    Cls,

    /// <summary>The last token's state (decoder embedders such as Qwen3-Embedding).</summary>
    Last,
}
