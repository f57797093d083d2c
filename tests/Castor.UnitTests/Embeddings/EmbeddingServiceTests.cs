using Castor.Application.Embeddings;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Models;
using Castor.Engine.Embedding;
using Microsoft.Extensions.Logging.Abstractions;

namespace Castor.UnitTests.Embeddings;

public sealed class EmbeddingServiceTests : IDisposable
{
    private const int Dimensions = 8;
    private readonly FakeEmbeddingBackend _backend = new(Dimensions);
    private static readonly Caller Caller = new("project-1", "default", "key-1");
    private readonly ModelCatalogue _registry;
    private readonly EmbeddingService _service;

    public EmbeddingServiceTests()
    {
        var info = new EmbeddingModelInfo("fake-embed", "Fake", "A test model.", Dimensions, MaxTokens: 32, "bert", "fake", EmbeddingPooling.Mean, "test");
        var model = new EmbeddingModel(info, _backend, maxQueue: 16, NullLogger.Instance);
        var prompts = TaskPrompts.For(info, "none", new Dictionary<string, string>
        {
            ["RETRIEVAL_QUERY"] = "q: ",
            ["RETRIEVAL_DOCUMENT"] = "{title|untitled} :: {text}",
        });
        _registry = new ModelCatalogue([], new Dictionary<string, string> { ["my-embedder"] = "fake-embed" }, null, [new EmbeddingModelEntry(model, prompts)]);
        _service = new EmbeddingService(_registry, new EmbeddingOptions { MaxBatchRequests = 5 });
    }

    public void Dispose() => _registry.Dispose();

    private static EmbeddingRequest Text(string text, string? model = null) =>
        new() { Model = model, Content = new Content("user", [new TextPart(text)]) };

    private static FieldViolation Violation(CastorException error) => Assert.IsType<FieldViolation>(Assert.Single(error.Details));

    [Theory]
    [InlineData("fake-embed")]
    [InlineData("models/fake-embed")]
    [InlineData("my-embedder")]
    [InlineData("gemini-embedding-001")]
    [InlineData("models/text-embedding-004")]
    [InlineData("embedding-001")]
    [InlineData("embedding-gecko-001")]
    public async Task Local_ids_aliases_and_gemini_embedding_names_resolve_to_an_embedding_model(string name)
    {
        var result = await _service.EmbedContentAsync(Caller,name, Text("hello"), null, default);
        Assert.Equal("fake-embed", result.ModelId);
        Assert.Equal(Dimensions, Assert.Single(result.Embeddings).Length);
    }

    [Fact]
    public async Task A_gemini_generative_name_refuses_embedding_with_400()
    {
        var error = await Assert.ThrowsAsync<CastorException>(() => _service.EmbedContentAsync(Caller,"gemini-2.5-flash", Text("x"), null, default));
        Assert.Equal(ErrorStatus.InvalidArgument, error.Status);
        Assert.Contains("embedContent", error.Message);
    }

    [Fact]
    public async Task An_unknown_model_is_404()
    {
        var error = await Assert.ThrowsAsync<CastorException>(() => _service.BatchEmbedContentsAsync(Caller,"no-such-model", [Text("x")], null, default));
        Assert.Equal(ErrorStatus.NotFound, error.Status);
        Assert.Contains("batchEmbedContents", error.Message);
    }

    [Fact]
    public async Task Vectors_are_normalized_and_output_dimensionality_keeps_their_prefix()
    {
        var full = await _service.EmbedContentAsync(Caller,"fake-embed", Text("abc"), null, default);
        var cut = await _service.EmbedContentAsync(Caller,"fake-embed", Text("abc") with { OutputDimensionality = 2 }, null, default);
        var vector = Assert.Single(full.Embeddings);
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(x => (double)x * x)), 5);
        Assert.Equal(vector[..2], Assert.Single(cut.Embeddings));
    }

    [Fact]
    public async Task A_batch_is_computed_in_one_run_and_answers_in_request_order()
    {
        var result = await _service.BatchEmbedContentsAsync(Caller,"fake-embed", [Text("a"), Text("bbbb"), Text("cc") with { OutputDimensionality = 3 }], null, default);
        Assert.Equal(3, Assert.Single(_backend.RunSizes));
        Assert.Equal([Dimensions, Dimensions, 3], result.Embeddings.Select(e => e.Length).ToArray());
        // The fake's vector is (length, sum of codes, 1, 0, …): each answer belongs to its own text.
        Assert.Equal(EmbeddingVectors.Shape([1, 'a', 1, 0, 0, 0, 0, 0], null), result.Embeddings[0]);
        Assert.Equal(EmbeddingVectors.Shape([4, 4 * 'b', 1, 0, 0, 0, 0, 0], null), result.Embeddings[1]);
        Assert.Equal(EmbeddingVectors.Shape([2, 2 * 'c', 1, 0, 0, 0, 0, 0], 3), result.Embeddings[2]);
        Assert.Equal(1 + 4 + 2, result.PromptTokenCount);
    }

    [Fact]
    public async Task Task_types_and_titles_become_the_models_prompts()
    {
        await _service.BatchEmbedContentsAsync(Caller,"fake-embed",
        [
            Text("what purrs?") with { TaskType = "RETRIEVAL_QUERY" },
            Text("Cats purr.") with { TaskType = "RETRIEVAL_DOCUMENT", Title = "Cats" },
            Text("Dogs bark.") with { Title = "Dogs" },
            Text("No title.") with { TaskType = "RETRIEVAL_DOCUMENT" },
            Text("plain") with { TaskType = "CLUSTERING" },
        ], null, default);
        Assert.Equal(["q: what purrs?", "Cats :: Cats purr.", "Dogs :: Dogs bark.", "untitled :: No title.", "plain"], _backend.Texts);
    }

    [Fact]
    public async Task Several_text_parts_are_embedded_as_one_text()
    {
        await _service.EmbedContentAsync(Caller,"fake-embed", new EmbeddingRequest { Content = new Content("user", [new TextPart("a"), new TextPart("b")]) }, null, default);
        Assert.Equal("a\nb", Assert.Single(_backend.Texts));
    }

    [Fact]
    public async Task A_long_text_is_truncated_unless_auto_truncate_is_false()
    {
        var text = new string('x', 100);
        var result = await _service.EmbedContentAsync(Caller,"fake-embed", Text(text), null, default);
        Assert.Equal(32, result.PromptTokenCount);

        var error = await Assert.ThrowsAsync<CastorException>(() => _service.EmbedContentAsync(Caller,"fake-embed", Text(text) with { AutoTruncate = false }, null, default));
        Assert.Equal("content", Violation(error).Field);
    }

    public static TheoryData<string, EmbeddingRequest?, string> InvalidRequests => new()
    {
        { "a different model than the URL", Text("x", "models/other-model"), "requests[1].model" },
        { "no content", new EmbeddingRequest(), "requests[1].content" },
        { "a content without parts", new EmbeddingRequest { Content = new Content("user", []) }, "requests[1].content.parts" },
        { "an empty text", Text(""), "requests[1].content.parts[0].text" },
        { "inline data", new EmbeddingRequest { Content = new Content("user", [new InlineDataPart("image/png", "AAAA")]) }, "requests[1].content.parts[0].inlineData" },
        { "an unknown task type", Text("x") with { TaskType = "SEARCH" }, "requests[1].taskType" },
        { "a title with a query task", Text("x") with { TaskType = "RETRIEVAL_QUERY", Title = "T" }, "requests[1].title" },
        { "more dimensions than the model has", Text("x") with { OutputDimensionality = Dimensions + 1 }, "requests[1].outputDimensionality" },
        { "negative dimensions", Text("x") with { OutputDimensionality = -1 }, "requests[1].outputDimensionality" },
        { "a null request", null, "requests[1]" },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task An_invalid_request_in_a_batch_is_400_naming_its_field_and_nothing_is_computed(string what, EmbeddingRequest? request, string field)
    {
        var error = await Assert.ThrowsAsync<CastorException>(() => _service.BatchEmbedContentsAsync(Caller,"fake-embed", [Text("fine"), request], null, default));
        Assert.Equal(ErrorStatus.InvalidArgument, error.Status);
        Assert.True(Violation(error).Field == field, $"{what}: expected field {field}, got {Violation(error).Field} ({error.Message})");
        Assert.Empty(_backend.RunSizes);
    }

    [Fact]
    public async Task The_same_model_under_its_models_prefix_is_not_a_different_model()
    {
        var result = await _service.BatchEmbedContentsAsync(Caller,"fake-embed", [Text("x", "models/fake-embed"), Text("y", "FAKE-EMBED")], null, default);
        Assert.Equal(2, result.Embeddings.Count);
    }

    [Fact]
    public async Task An_empty_or_oversized_batch_is_400()
    {
        var empty = await Assert.ThrowsAsync<CastorException>(() => _service.BatchEmbedContentsAsync(Caller,"fake-embed", [], null, default));
        Assert.Equal("requests", Violation(empty).Field);
        var missing = await Assert.ThrowsAsync<CastorException>(() => _service.BatchEmbedContentsAsync(Caller,"fake-embed", null, null, default));
        Assert.Equal("requests", Violation(missing).Field);
        var tooMany = await Assert.ThrowsAsync<CastorException>(() => _service.BatchEmbedContentsAsync(Caller,"fake-embed", Enumerable.Range(0, 6).Select(i => (EmbeddingRequest?)Text("t" + i)).ToList(), null, default));
        Assert.Equal("requests", Violation(tooMany).Field);
        Assert.Contains("at most 5", tooMany.Message);
    }

    [Fact]
    public async Task Fields_of_embed_content_are_named_without_a_requests_prefix()
    {
        var error = await Assert.ThrowsAsync<CastorException>(() => _service.EmbedContentAsync(Caller,"fake-embed", Text("x") with { OutputDimensionality = 99 }, null, default));
        Assert.Equal("outputDimensionality", Violation(error).Field);
    }
}
