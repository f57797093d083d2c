using Castor.Engine.Embedding;

namespace Castor.Application.Embeddings;

/// <summary>
/// The prompts an embedding model was trained with, per task type. A template holds <c>{text}</c> where the text goes
/// and may hold <c>{title}</c> or <c>{title|fallback}</c> (the request's title, or the fallback when it sends none);
/// a template without <c>{text}</c> is a prefix. Task types a model has no prompt for embed the bare text, so for
/// models without prompts (the built-in MiniLM) taskType and title are accepted and change nothing.
/// </summary>
public sealed class TaskPrompts
{
    public const string NoneStyle = "none";
    private const string TextSlot = "{text}";

    // Query-side tasks that retrieve RETRIEVAL_DOCUMENT texts, as the Gemini docs pair them.
    private static readonly EmbeddingTaskType[] QueryTasks =
        [EmbeddingTaskType.RetrievalQuery, EmbeddingTaskType.QuestionAnswering, EmbeddingTaskType.FactVerification, EmbeddingTaskType.CodeRetrievalQuery];

    /// <summary>Prompt styles by name, from the models' cards. Keys are the API's task type names.</summary>
    private static readonly Dictionary<string, Dictionary<EmbeddingTaskType, string>> Styles = new(StringComparer.OrdinalIgnoreCase)
    {
        [NoneStyle] = [],
        // EmbeddingGemma (its sentence-transformers prompts).
        ["embeddinggemma"] = new()
        {
            [EmbeddingTaskType.RetrievalQuery] = "task: search result | query: ",
            [EmbeddingTaskType.RetrievalDocument] = "title: {title|none} | text: {text}",
            [EmbeddingTaskType.SemanticSimilarity] = "task: sentence similarity | query: ",
            [EmbeddingTaskType.Classification] = "task: classification | query: ",
            [EmbeddingTaskType.Clustering] = "task: clustering | query: ",
            [EmbeddingTaskType.QuestionAnswering] = "task: question answering | query: ",
            [EmbeddingTaskType.FactVerification] = "task: fact checking | query: ",
            [EmbeddingTaskType.CodeRetrievalQuery] = "task: code retrieval | query: ",
        },
        // nomic-embed-text: every text needs one of its four prefixes; search_document is Nomic's own default.
        ["nomic"] = With(QueryTasks, "search_query: ", new()
        {
            [EmbeddingTaskType.Unspecified] = "search_document: ",
            [EmbeddingTaskType.RetrievalDocument] = "search_document: ",
            [EmbeddingTaskType.Classification] = "classification: ",
            [EmbeddingTaskType.Clustering] = "clustering: ",
            [EmbeddingTaskType.SemanticSimilarity] = "clustering: ",
        }),
        // BGE v1.5 (English): an instruction for retrieval queries only.
        ["bge"] = With(QueryTasks, "Represent this sentence for searching relevant passages: ", []),
        ["bge-zh"] = With(QueryTasks, "为这个句子生成表示以用于检索相关文章：", []),
        // E5: "passage: " for documents, "query: " for everything else (symmetric tasks included).
        ["e5"] = new()
        {
            [EmbeddingTaskType.Unspecified] = "query: ",
            [EmbeddingTaskType.RetrievalQuery] = "query: ",
            [EmbeddingTaskType.RetrievalDocument] = "passage: ",
            [EmbeddingTaskType.SemanticSimilarity] = "query: ",
            [EmbeddingTaskType.Classification] = "query: ",
            [EmbeddingTaskType.Clustering] = "query: ",
            [EmbeddingTaskType.QuestionAnswering] = "query: ",
            [EmbeddingTaskType.FactVerification] = "query: ",
            [EmbeddingTaskType.CodeRetrievalQuery] = "query: ",
        },
        // Qwen3-Embedding: an instruction on the query side, documents bare.
        ["qwen3"] = new()
        {
            [EmbeddingTaskType.RetrievalQuery] = Qwen("Given a web search query, retrieve relevant passages that answer the query"),
            [EmbeddingTaskType.QuestionAnswering] = Qwen("Given a question, retrieve passages that answer the question"),
            [EmbeddingTaskType.FactVerification] = Qwen("Given a claim, retrieve documents that support or refute the claim"),
            [EmbeddingTaskType.CodeRetrievalQuery] = Qwen("Given a natural language query, retrieve code snippets that answer the query"),
            [EmbeddingTaskType.SemanticSimilarity] = Qwen("Retrieve semantically similar text"),
            [EmbeddingTaskType.Classification] = Qwen("Classify the topic of the given text"),
            [EmbeddingTaskType.Clustering] = Qwen("Identify the main topic of the given text"),
        },
    };

    private readonly IReadOnlyDictionary<EmbeddingTaskType, string> _templates;

    private TaskPrompts(string style, IReadOnlyDictionary<EmbeddingTaskType, string> templates)
    {
        Style = style;
        _templates = templates;
    }

    public static TaskPrompts None { get; } = new(NoneStyle, new Dictionary<EmbeddingTaskType, string>());

    /// <summary>The style's name (<c>embeddinggemma</c>, <c>nomic</c>, …, <c>none</c>), with <c>+custom</c> when configuration changed it.</summary>
    public string Style { get; }

    public static IReadOnlyCollection<string> StyleNames => Styles.Keys;

    public bool Defines(EmbeddingTaskType task) => _templates.ContainsKey(task);

    /// <summary>
    /// The prompts for a model: the named style (or the one its architecture and name suggest), with configured templates
    /// replacing the style's per task type. Throws <see cref="InvalidOperationException"/> for an unknown style or task type.
    /// </summary>
    public static TaskPrompts For(EmbeddingModelInfo model, string? style = null, IReadOnlyDictionary<string, string>? templates = null)
    {
        var name = string.IsNullOrWhiteSpace(style) ? DetectStyle(model) : style.Trim();
        if (!Styles.TryGetValue(name, out var preset))
            throw new InvalidOperationException($"Unknown prompt style '{name}' for embedding model '{model.Id}'. Use one of: {string.Join(", ", Styles.Keys)}.");
        var merged = new Dictionary<EmbeddingTaskType, string>(preset);
        if (templates is { Count: > 0 })
        {
            foreach (var (key, template) in templates)
            {
                if (!EmbeddingTaskTypes.TryParse(key.Trim().ToUpperInvariant(), out var task))
                    throw new InvalidOperationException($"Unknown task type '{key}' in the prompts of embedding model '{model.Id}'. Use: {string.Join(", ", EmbeddingTaskTypes.WireNames)}.");
                if (string.IsNullOrEmpty(template)) merged.Remove(task);
                else merged[task] = template;
            }
            return new TaskPrompts(name.ToLowerInvariant() + "+custom", merged);
        }
        return new TaskPrompts(name.ToLowerInvariant(), merged);
    }

    /// <summary>Recognises a model family from its GGUF architecture and published name; <c>none</c> when unknown.</summary>
    public static string DetectStyle(EmbeddingModelInfo model)
    {
        var name = $"{model.SourceName} {model.Id}".ToLowerInvariant().Replace(' ', '-').Replace('_', '-');
        var architecture = model.Architecture.ToLowerInvariant();
        if (architecture == "gemma-embedding" || name.Contains("embeddinggemma") || name.Contains("embedding-gemma")) return "embeddinggemma";
        if (architecture.StartsWith("nomic-bert", StringComparison.Ordinal) || name.Contains("nomic-embed")) return "nomic";
        if (name.Contains("qwen3-embedding")) return "qwen3";
        if (name.Contains("bge-m3")) return NoneStyle;
        if (name.Contains("bge-") && name.Contains("-zh")) return "bge-zh";
        if (name.Contains("bge-")) return "bge";
        if (name.Contains("e5-") && !name.Contains("mistral") && !name.Contains("instruct")) return "e5";
        return NoneStyle;
    }

    /// <summary>The text the model embeds for this task (titles only reach templates that use <c>{title}</c>).</summary>
    public string Render(EmbeddingTaskType task, string? title, string text)
    {
        if (!_templates.TryGetValue(task, out var template)) return text;
        var slot = template.IndexOf(TextSlot, StringComparison.Ordinal);
        if (slot < 0) return FillTitle(template, title) + text;
        // The text is inserted last, so braces inside it are never taken for placeholders.
        return FillTitle(template[..slot], title) + text + FillTitle(template[(slot + TextSlot.Length)..], title);
    }

    private static string FillTitle(string part, string? title)
    {
        var start = part.IndexOf("{title", StringComparison.Ordinal);
        while (start >= 0)
        {
            var end = part.IndexOf('}', start);
            if (end < 0) break;
            var inner = part[(start + 1)..end];
            string? fallback = null;
            if (inner.StartsWith("title|", StringComparison.Ordinal)) fallback = inner["title|".Length..];
            else if (inner != "title")
            {
                start = part.IndexOf("{title", end, StringComparison.Ordinal);
                continue;
            }
            var value = string.IsNullOrEmpty(title) ? fallback ?? "" : title;
            part = part[..start] + value + part[(end + 1)..];
            start = part.IndexOf("{title", start + value.Length, StringComparison.Ordinal);
        }
        return part;
    }

    private static Dictionary<EmbeddingTaskType, string> With(EmbeddingTaskType[] tasks, string template, Dictionary<EmbeddingTaskType, string> others)
    {
        foreach (var task in tasks) others[task] = template;
        return others;
    }

    private static string Qwen(string instruction) => $"Instruct: {instruction}\nQuery:";
}
