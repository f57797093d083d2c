using Castor.Application.Backends;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Models;
using Castor.Engine.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace Castor.IntegrationTests.Models;

/// <summary>A real GGUF loaded into a running catalogue, served, and unloaded while one of its streams is still generating.</summary>
public sealed class ModelCatalogueRuntimeTests
{
    private static readonly Caller Caller = new("project-1", "default", "key-1");

    private static GenerationRequest Story(string model, int maxTokens) => new()
    {
        Model = model,
        Contents = [new Content("user", [new TextPart("Once upon a time")])],
        Config = new GenerationConfig { Seed = 3, MaxOutputTokens = maxTokens },
    };

    [Fact]
    public async Task A_model_loaded_at_run_time_serves_and_unloading_it_lets_a_running_stream_finish_first()
    {
        NativeLogging.RouteTo(NullLogger.Instance);
        using var catalogue = new ModelCatalogue([]);
        var service = new GenerationService(catalogue);
        var loader = new ModelLoader(new EngineOptions { Threads = 2, Parallel = 1, ContextSize = 512 }, NullLoggerFactory.Instance);

        var backend = new DisposalWatch(loader.LoadGenerative("Pulled", TestModels.Stories260K));
        catalogue.Load(backend);
        Assert.Contains(catalogue.List(), m => m.Name == "pulled");
        var whole = await service.GenerateAsync(Caller, Story("models/pulled", 8), default);
        Assert.InRange(whole.Usage.CandidatesTokenCount, 1, 8);

        var stream = await service.StartAsync(Caller, Story("pulled", 40), default);
        var unload = catalogue.UnloadAsync("pulled");
        var afterUnload = await Assert.ThrowsAsync<CastorException>(() => service.StartAsync(Caller, Story("pulled", 4), default));
        Assert.Equal(ErrorStatus.NotFound, afterUnload.Status);
        Assert.False(unload.IsCompleted);
        Assert.False(backend.Disposed);

        Usage? usage = null;
        FinishReason? finish = null;
        await foreach (var update in stream.ReadAllAsync())
        {
            usage = update.Usage;
            finish = update.FinishReason ?? finish;
        }
        Assert.NotNull(finish);
        Assert.InRange(usage!.CandidatesTokenCount, 1, 40);

        await unload;
        Assert.DoesNotContain(catalogue.List(), m => m.Name == "pulled");
        Assert.True(backend.Disposed);
    }

    /// <summary>The llama.cpp backend, noting when the catalogue frees it.</summary>
    private sealed class DisposalWatch(IModelBackend inner) : IModelBackend
    {
        public bool Disposed { get; private set; }
        public ModelDescription Description => inner.Description;
        public int[] TokenizePrompt(IReadOnlyList<PromptMessage> messages) => inner.TokenizePrompt(messages);
        public int[] TokenizeMarker(string text) => inner.TokenizeMarker(text);
        public int CountTokens(string text) => inner.CountTokens(text);
        public System.Threading.Channels.ChannelReader<BackendEvent> Generate(BackendRequest request, CancellationToken cancellationToken) =>
            inner.Generate(request, cancellationToken);

        public void Dispose()
        {
            inner.Dispose();
            Disposed = true;
        }
    }
}
