using System.Threading.Channels;
using Castor.Application.Backends;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Models;
using Castor.UnitTests.Generation;

namespace Castor.UnitTests.Models;

/// <summary>Loading, listing and unloading generative models while the server runs, with requests holding the model they resolved.</summary>
public sealed class ModelCatalogueTests
{
    private static readonly Caller Caller = new("project-1", "default", "key-1");

    private static GenerationRequest Request(string model) => new() { Model = model, Contents = [new Content("user", [new TextPart("Hi")])] };

    [Fact]
    public void A_model_loaded_at_run_time_is_listed_resolvable_and_becomes_the_default_when_there_was_none()
    {
        using var catalogue = new ModelCatalogue([]);
        Assert.Null(catalogue.DefaultGenerative);
        var backend = new FakeModelBackend("late");

        catalogue.Load(backend);

        Assert.Contains(catalogue.List(), m => m.Name == "late");
        Assert.Same(backend, catalogue.ResolveGenerative("models/late"));
        Assert.Same(backend, catalogue.DefaultGenerative);
        Assert.Same(backend, catalogue.ResolveGenerative("gemini-2.5-flash"));
        Assert.Equal("late", catalogue.Describe("gemini-2.5-flash").BaseModelId);
    }

    [Fact]
    public void Loading_a_second_model_under_a_taken_id_is_refused()
    {
        using var catalogue = new ModelCatalogue([new FakeModelBackend("a")]);
        Assert.Throws<InvalidOperationException>(() => catalogue.Load(new FakeModelBackend("A")));
    }

    [Fact]
    public async Task An_idle_model_is_freed_at_once_and_its_name_is_then_unknown()
    {
        var backend = new FakeModelBackend("gone");
        using var catalogue = new ModelCatalogue([backend, new FakeModelBackend("stays")]);

        await catalogue.UnloadAsync("models/gone");

        Assert.True(backend.Disposed);
        Assert.DoesNotContain(catalogue.List(), m => m.Name == "gone");
        var error = Assert.Throws<CastorException>(() => catalogue.Acquire("gone"));
        Assert.Equal(ErrorStatus.NotFound, error.Status);
        // Gemini names move to the model that is left.
        Assert.Equal("stays", catalogue.ResolveGenerative("gemini-2.5-flash").Description.Id);
    }

    [Fact]
    public async Task Unloading_an_unknown_model_is_not_found()
    {
        using var catalogue = new ModelCatalogue([]);
        var error = await Assert.ThrowsAsync<CastorException>(() => catalogue.UnloadAsync("nothing"));
        Assert.Equal(ErrorStatus.NotFound, error.Status);
    }

    [Fact]
    public async Task Embedding_models_are_not_unloaded_at_run_time_yet()
    {
        var info = new Castor.Engine.Embedding.EmbeddingModelInfo("embedder", "E", "test", 4, MaxTokens: 8, "bert", "fake", Castor.Engine.Embedding.EmbeddingPooling.Mean, "test");
        var model = new Castor.Engine.Embedding.EmbeddingModel(info, new Castor.UnitTests.Embeddings.FakeEmbeddingBackend(4), maxQueue: 1,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        using var catalogue = new ModelCatalogue([], embeddingModels: [new Castor.Application.Embeddings.EmbeddingModelEntry(model, Castor.Application.Embeddings.TaskPrompts.For(info, "none"))]);
        var error = await Assert.ThrowsAsync<CastorException>(() => catalogue.UnloadAsync("embedder"));
        Assert.Equal(ErrorStatus.FailedPrecondition, error.Status);
        Assert.Same(model, catalogue.ResolveEmbedding("embedder").Model);
    }

    [Fact]
    public async Task Unloading_while_a_stream_runs_lets_the_stream_finish_then_frees_the_model()
    {
        var events = Channel.CreateUnbounded<BackendEvent>();
        var backend = new FakeModelBackend("busy") { Script = _ => events.Reader };
        using var catalogue = new ModelCatalogue([backend]);
        var service = new GenerationService(catalogue);

        var stream = await service.StartAsync(Caller, Request("busy"), default);
        Assert.Equal(1, catalogue.LeaseCount("busy"));
        var unload = catalogue.UnloadAsync("busy");

        // The unload waits for the running stream, and new requests no longer find the model.
        Assert.False(unload.IsCompleted);
        Assert.False(backend.Disposed);
        var refused = await Assert.ThrowsAsync<CastorException>(() => service.StartAsync(Caller, Request("busy"), default));
        Assert.Equal(ErrorStatus.NotFound, refused.Status);

        // While the engine still produces, the model stays. (Once its last event has been read the model may go at
        // once, while the reader still holds that last update, so the check is made mid-stream, not per update.)
        await using var updates = stream.ReadAllAsync().GetAsyncEnumerator();
        events.Writer.TryWrite(new TextProduced(0, "still "));
        Assert.True(await updates.MoveNextAsync());
        var text = updates.Current.Text;
        Assert.False(backend.Disposed);
        Assert.False(unload.IsCompleted);

        events.Writer.TryWrite(new TextProduced(0, "here"));
        events.Writer.TryWrite(new CandidateFinished(0, FinishCause.EndOfText, 2));
        events.Writer.Complete();
        while (await updates.MoveNextAsync()) text += updates.Current.Text;

        await unload;
        Assert.Equal("still here", text);
        Assert.True(backend.Disposed);
    }

    [Fact]
    public async Task A_request_refused_before_streaming_does_not_hold_the_model()
    {
        var backend = new FakeModelBackend("m", parallel: 1);
        using var catalogue = new ModelCatalogue([backend]);
        var service = new GenerationService(catalogue);
        await Assert.ThrowsAsync<CastorException>(() =>
            service.StartAsync(Caller, Request("m") with { Config = new GenerationConfig { CandidateCount = 2 } }, default));
        Assert.Equal(0, catalogue.LeaseCount("m"));

        await catalogue.UnloadAsync("m");
        Assert.True(backend.Disposed);
    }

    [Fact]
    public async Task A_stream_nobody_reads_releases_the_model_when_its_request_is_cancelled()
    {
        var backend = new FakeModelBackend("m");
        using var catalogue = new ModelCatalogue([backend]);
        var service = new GenerationService(catalogue);
        using var request = new CancellationTokenSource();
        await service.StartAsync(Caller, Request("m"), request.Token);
        Assert.Equal(1, catalogue.LeaseCount("m"));

        // The client went away before reading: the request's cancellation ends the hold.
        request.Cancel();
        Assert.Equal(0, catalogue.LeaseCount("m"));
    }
}
