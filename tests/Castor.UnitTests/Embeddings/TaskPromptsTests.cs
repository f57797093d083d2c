using Castor.Application.Embeddings;
using Castor.Engine.Embedding;

namespace Castor.UnitTests.Embeddings;

public sealed class TaskPromptsTests
{
    private static EmbeddingModelInfo Model(string id, string architecture = "bert", string? source = null) =>
        new(id, id, "", 8, 64, architecture, source ?? id, EmbeddingPooling.Mean, "test");

    [Theory]
    [InlineData("embeddinggemma-300m-q8_0", "gemma-embedding", "embeddinggemma-300m", "embeddinggemma")]
    [InlineData("nomic-embed-text-v1.5.q8_0", "nomic-bert", "nomic-embed-text-v1.5", "nomic")]
    [InlineData("qwen3-embedding-0.6b-q8_0", "qwen3", "Qwen3 Embedding 0.6B", "qwen3")]
    [InlineData("bge-small-en-v1.5-q8_0", "bert", "bge-small-en-v1.5", "bge")]
    [InlineData("bge-large-zh-v1.5", "bert", "bge-large-zh-v1.5", "bge-zh")]
    [InlineData("bge-m3-q8_0", "xlm-roberta", "bge-m3", "none")]
    [InlineData("multilingual-e5-small-q8_0", "bert", "multilingual-e5-small", "e5")]
    [InlineData("text-embedding-minilm", "bert", "all-MiniLM-L6-v2", "none")]
    [InlineData("stories-embed", "llama", "llama", "none")]
    public void The_prompt_style_is_recognised_from_architecture_and_name(string id, string architecture, string source, string style)
    {
        Assert.Equal(style, TaskPrompts.DetectStyle(Model(id, architecture, source)));
    }

    [Fact]
    public void A_model_without_prompts_embeds_the_bare_text_for_every_task_and_title()
    {
        var prompts = TaskPrompts.For(Model("text-embedding-minilm", source: "all-MiniLM-L6-v2"));
        Assert.Equal("none", prompts.Style);
        foreach (var task in Enum.GetValues<EmbeddingTaskType>())
            Assert.Equal("a cat", prompts.Render(task, "Pets", "a cat"));
    }

    [Fact]
    public void Embeddinggemma_prompts_follow_its_model_card()
    {
        var prompts = TaskPrompts.For(Model("embeddinggemma", "gemma-embedding"));
        Assert.Equal("task: search result | query: what purrs?", prompts.Render(EmbeddingTaskType.RetrievalQuery, null, "what purrs?"));
        Assert.Equal("task: sentence similarity | query: x", prompts.Render(EmbeddingTaskType.SemanticSimilarity, null, "x"));
        Assert.Equal("task: code retrieval | query: x", prompts.Render(EmbeddingTaskType.CodeRetrievalQuery, null, "x"));
        Assert.Equal("task: fact checking | query: x", prompts.Render(EmbeddingTaskType.FactVerification, null, "x"));
        Assert.Equal("x", prompts.Render(EmbeddingTaskType.Unspecified, null, "x"));
    }

    [Fact]
    public void A_document_title_fills_the_template_and_its_fallback_stands_in_when_absent()
    {
        var prompts = TaskPrompts.For(Model("embeddinggemma", "gemma-embedding"));
        Assert.Equal("title: Cats | text: Cats purr.", prompts.Render(EmbeddingTaskType.RetrievalDocument, "Cats", "Cats purr."));
        Assert.Equal("title: none | text: Cats purr.", prompts.Render(EmbeddingTaskType.RetrievalDocument, null, "Cats purr."));
    }

    [Fact]
    public void Prefix_styles_put_the_prefix_before_the_text()
    {
        var nomic = TaskPrompts.For(Model("nomic-embed-text", "nomic-bert"));
        Assert.Equal("search_query: who?", nomic.Render(EmbeddingTaskType.RetrievalQuery, null, "who?"));
        Assert.Equal("search_query: who?", nomic.Render(EmbeddingTaskType.QuestionAnswering, null, "who?"));
        Assert.Equal("search_document: doc", nomic.Render(EmbeddingTaskType.RetrievalDocument, "ignored title", "doc"));
        Assert.Equal("search_document: doc", nomic.Render(EmbeddingTaskType.Unspecified, null, "doc"));
        Assert.Equal("clustering: doc", nomic.Render(EmbeddingTaskType.Clustering, null, "doc"));

        var qwen = TaskPrompts.For(Model("qwen3-embedding-0.6b", "qwen3"));
        Assert.Equal("Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:capital of France?",
            qwen.Render(EmbeddingTaskType.RetrievalQuery, null, "capital of France?"));
        Assert.Equal("Paris is the capital.", qwen.Render(EmbeddingTaskType.RetrievalDocument, null, "Paris is the capital."));
    }

    [Fact]
    public void Braces_in_the_text_are_never_taken_for_placeholders()
    {
        var prompts = TaskPrompts.For(Model("m"), "none", new Dictionary<string, string> { ["RETRIEVAL_DOCUMENT"] = "[{title}] {text} <{title|?}>" });
        Assert.Equal("[T] see {title} and {text} <T>", prompts.Render(EmbeddingTaskType.RetrievalDocument, "T", "see {title} and {text}"));
        Assert.Equal("[] x <?>", prompts.Render(EmbeddingTaskType.RetrievalDocument, null, "x"));
    }

    [Fact]
    public void Configured_templates_replace_the_styles_per_task_and_an_empty_one_removes_it()
    {
        var prompts = TaskPrompts.For(Model("nomic", "nomic-bert"), templates: new Dictionary<string, string>
        {
            ["retrieval_query"] = "Q: ",
            ["CLUSTERING"] = "",
            ["TASK_TYPE_UNSPECIFIED"] = "general: {text}",
        });
        Assert.Equal("nomic+custom", prompts.Style);
        Assert.Equal("Q: x", prompts.Render(EmbeddingTaskType.RetrievalQuery, null, "x"));
        Assert.Equal("x", prompts.Render(EmbeddingTaskType.Clustering, null, "x"));
        Assert.Equal("general: x", prompts.Render(EmbeddingTaskType.Unspecified, null, "x"));
        Assert.Equal("search_document: x", prompts.Render(EmbeddingTaskType.RetrievalDocument, null, "x"));
    }

    [Fact]
    public void An_unknown_style_or_task_type_in_configuration_is_refused_at_start_up()
    {
        Assert.Throws<InvalidOperationException>(() => TaskPrompts.For(Model("m"), "no-such-style"));
        Assert.Throws<InvalidOperationException>(() => TaskPrompts.For(Model("m"), null, new Dictionary<string, string> { ["SEARCH"] = "q: " }));
    }

    [Theory]
    [InlineData(null, EmbeddingTaskType.Unspecified)]
    [InlineData("", EmbeddingTaskType.Unspecified)]
    [InlineData("TASK_TYPE_UNSPECIFIED", EmbeddingTaskType.Unspecified)]
    [InlineData("RETRIEVAL_QUERY", EmbeddingTaskType.RetrievalQuery)]
    [InlineData("CODE_RETRIEVAL_QUERY", EmbeddingTaskType.CodeRetrievalQuery)]
    public void Task_types_parse_by_their_wire_names(string? name, EmbeddingTaskType expected)
    {
        Assert.True(EmbeddingTaskTypes.TryParse(name, out var task));
        Assert.Equal(expected, task);
    }

    [Theory]
    [InlineData("retrieval_query")]
    [InlineData("SEARCH")]
    public void Other_task_type_names_do_not_parse(string name) => Assert.False(EmbeddingTaskTypes.TryParse(name, out _));
}
