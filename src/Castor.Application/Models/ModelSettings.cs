using Castor.Engine.Models;

namespace Castor.Application.Models;

/// <summary>One model's <c>ModelSettings:{id}</c> section: how it is loaded and served.</summary>
public sealed class ModelSettings
{
    /// <summary>A .gguf file; names a model with this entry's id.</summary>
    public string? Path { get; set; }

    /// <summary>
    /// A multimodal projector (<c>mmproj</c> GGUF) that lets the model take images or audio. Without it, a models folder
    /// holding one generative model and one projector pairs them.
    /// </summary>
    public string? Projector { get; set; }

    /// <summary>A llama.cpp template name (chatml, llama3, gemma, …) or "transcript", overriding the GGUF's own.</summary>
    public string? ChatTemplate { get; set; }
    public int? ContextSize { get; set; }

    /// <summary>The fewest tokens a cached content for this model may hold (default 1,024, as the API's 2.5 Flash).</summary>
    public int? MinCacheTokens { get; set; }
    public string? DisplayName { get; set; }

    /// <summary>auto, on or off for this model, over the global FlashAttention setting.</summary>
    public FlashAttentionMode? FlashAttention { get; set; }
    public List<string> Aliases { get; set; } = [];

    /// <summary>Thought markers of a thinking model, when its template does not reveal them (or to override them).</summary>
    public ThinkingSettings? Thinking { get; set; }

    /// <summary>Serve the GGUF as an embedding model (true) or a generative one (false); default: what its metadata says.</summary>
    public bool? Embedding { get; set; }

    /// <summary>How an embedding model pools token states: mean, cls or last; default: the GGUF's own (mean when it declares none).</summary>
    public string? Pooling { get; set; }

    /// <summary>An embedding model's task prompt style: embeddinggemma, nomic, bge, bge-zh, e5, qwen3 or none; default: recognised from the model.</summary>
    public string? PromptStyle { get; set; }

    /// <summary>Prompt templates by task type (RETRIEVAL_QUERY, …, TASK_TYPE_UNSPECIFIED), replacing the style's: <c>{text}</c>, <c>{title}</c>, <c>{title|fallback}</c>; without <c>{text}</c> a template is a prefix.</summary>
    public Dictionary<string, string> TaskPrompts { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}
