using Castor.Application.Models;
using Castor.Engine.Models;
using Castor.IntegrationTests.Media;
using Microsoft.Extensions.Logging.Abstractions;

namespace Castor.IntegrationTests.Models;

/// <summary>
/// A model that <c>castor pull</c> left in <c>models/{id}/</c> beside its mmproj is paired with it, whether the server
/// finds it at start-up or while running (the folder watcher's load).
/// </summary>
public sealed class ProjectorPairingTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("castor-pairing-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>models/{id}/ as a pull of a GGUF repository with an mmproj leaves it.</summary>
    private string Pulled(string id)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_root, id)).FullName;
        File.Copy(TestModels.Stories260K, Path.Combine(folder, "stories260K.gguf"));
        File.Copy(TestMedia.Projector("mlp"), Path.Combine(folder, "mmproj-stories-f32.gguf"));
        return Path.Combine(folder, "stories260K.gguf");
    }

    private static ModelLoader Loader()
    {
        NativeLogging.RouteTo(NullLogger.Instance);
        return new ModelLoader(new EngineOptions { Threads = 1, Parallel = 1, ContextSize = 256 }, NullLoggerFactory.Instance);
    }

    [Fact]
    public void A_pulled_model_found_at_start_up_accepts_images()
    {
        Pulled("pulled-vision");
        using var catalogue = Loader().LoadAll(new ModelCatalogueSettings
        {
            Locations = [_root],
            BuiltinEmbeddingModel = false,
            Engine = new EngineOptions(),
        });

        var model = Assert.Single(catalogue.Models);
        Assert.Equal("pulled-vision", model.Description.Id);
        Assert.True(model.Description.Projector?.Vision);
        Assert.Equal("mmproj-stories-f32.gguf", model.Description.Projector!.ProjectorFile);
    }

    [Fact]
    public void A_pulled_model_found_while_running_accepts_images_and_one_without_its_locations_does_not()
    {
        var path = Pulled("pulled-late");
        var loader = Loader();

        using var paired = loader.LoadGenerative("pulled-late", path, locations: [_root]);
        using var unpaired = loader.LoadGenerative("pulled-late", path);

        Assert.True(paired.Description.Projector?.Vision);
        Assert.Null(unpaired.Description.Projector);
    }

    [Fact]
    public void A_broken_projector_beside_a_model_leaves_it_serving_text_and_says_so()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_root, "broken-vision")).FullName;
        File.Copy(TestModels.Stories260K, Path.Combine(folder, "stories260K.gguf"));
        // What an interrupted copy leaves: the GGUF magic and then nothing usable.
        File.WriteAllBytes(Path.Combine(folder, "mmproj-stories-f32.gguf"), [.. "GGUF"u8, 3, 0, 0, 0, 1, 2, 3]);
        var console = new StringWriter();
        NativeLogging.RouteTo(NullLogger.Instance);
        var loader = new ModelLoader(new EngineOptions { Threads = 1, Parallel = 1, ContextSize = 256 }, NullLoggerFactory.Instance, console);

        using var catalogue = loader.LoadAll(new ModelCatalogueSettings { Locations = [_root], BuiltinEmbeddingModel = false, Engine = new EngineOptions() });
        using var late = loader.LoadGenerative("broken-vision", Path.Combine(folder, "stories260K.gguf"), locations: [_root]);

        var model = Assert.Single(catalogue.Models);
        Assert.Equal("broken-vision", model.Description.Id);
        Assert.Null(model.Description.Projector);
        Assert.Null(late.Description.Projector);
        Assert.Contains("warning: broken-vision serves text only: the projector", console.ToString());
        Assert.Contains("mmproj-stories-f32.gguf", console.ToString());
    }
}
