namespace Castor.Application.Embeddings;

/// <summary>What an embedding will be used for (the API's <c>TaskType</c>); models trained with task prompts embed differently for each.</summary>
public enum EmbeddingTaskType
{
    Unspecified,
    RetrievalQuery,
    RetrievalDocument,
    SemanticSimilarity,
    Classification,
    Clustering,
    QuestionAnswering,
    FactVerification,
    CodeRetrievalQuery,
}

public static class EmbeddingTaskTypes
{
    private static readonly Dictionary<string, EmbeddingTaskType> ByWireName = new(StringComparer.Ordinal)
    {
        ["TASK_TYPE_UNSPECIFIED"] = EmbeddingTaskType.Unspecified,
        ["RETRIEVAL_QUERY"] = EmbeddingTaskType.RetrievalQuery,
        ["RETRIEVAL_DOCUMENT"] = EmbeddingTaskType.RetrievalDocument,
        ["SEMANTIC_SIMILARITY"] = EmbeddingTaskType.SemanticSimilarity,
        ["CLASSIFICATION"] = EmbeddingTaskType.Classification,
        ["CLUSTERING"] = EmbeddingTaskType.Clustering,
        ["QUESTION_ANSWERING"] = EmbeddingTaskType.QuestionAnswering,
        ["FACT_VERIFICATION"] = EmbeddingTaskType.FactVerification,
        ["CODE_RETRIEVAL_QUERY"] = EmbeddingTaskType.CodeRetrievalQuery,
    };

    /// <summary>The wire names, in the API's order.</summary>
    public static IReadOnlyCollection<string> WireNames => ByWireName.Keys;

    /// <summary>The API's name for a task type, e.g. <c>RETRIEVAL_QUERY</c>.</summary>
    public static string WireName(this EmbeddingTaskType task) => ByWireName.First(p => p.Value == task).Key;

    /// <summary>Parses a wire name exactly as the API spells it (enum names are case-sensitive in protobuf JSON).</summary>
    public static bool TryParse(string? name, out EmbeddingTaskType task)
    {
        if (string.IsNullOrEmpty(name))
        {
            task = EmbeddingTaskType.Unspecified;
            return true;
        }
        return ByWireName.TryGetValue(name, out task);
    }
}
