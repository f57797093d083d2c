namespace Castor.Api.Gemini.Wire;

// Wire types of :embedContent and :batchEmbedContents (camelCase; snake_case accepted too, see SnakeCaseAliases).

public sealed class EmbedContentRequest
{
    /// <summary><c>models/{model}</c>; LangChain's embedQuery leaves it out.</summary>
    public string? Model { get; set; }
    public Content? Content { get; set; }

    // The top-level fields are what every SDK sends; the API now also reads them from embedContentConfig.
    public string? TaskType { get; set; }
    public string? Title { get; set; }
    public int? OutputDimensionality { get; set; }
    public EmbedContentConfig? EmbedContentConfig { get; set; }
}

public sealed class EmbedContentConfig
{
    public string? TaskType { get; set; }
    public string? Title { get; set; }
    public int? OutputDimensionality { get; set; }
    public bool? AutoTruncate { get; set; }
    public bool? DocumentOcr { get; set; }
    public bool? AudioTrackExtraction { get; set; }
}

public sealed class BatchEmbedContentsRequest
{
    public List<EmbedContentRequest?>? Requests { get; set; }
}

public sealed class EmbedContentResponse
{
    public ContentEmbedding? Embedding { get; set; }
    public EmbeddingUsageMetadata? UsageMetadata { get; set; }
}

public sealed class BatchEmbedContentsResponse
{
    public List<ContentEmbedding>? Embeddings { get; set; }
    public EmbeddingUsageMetadata? UsageMetadata { get; set; }
}

public sealed class ContentEmbedding
{
    public float[] Values { get; set; } = [];
}

public sealed class EmbeddingUsageMetadata
{
    public int PromptTokenCount { get; set; }
}
