using Castor.Engine.Models;

namespace Castor.IntegrationTests.Hub;

/// <summary>How the models folder is read: loose files, pulled model folders, split models and projectors.</summary>
public sealed class GgufDiscoveryTests : IDisposable
{
    private readonly string _models = Directory.CreateTempSubdirectory("castor-discovery").FullName;

    public void Dispose() => Directory.Delete(_models, recursive: true);

    private string Touch(params string[] path)
    {
        var full = Path.Combine([_models, .. path]);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, [1]);
        return full;
    }

    [Fact]
    public void Loose_files_keep_their_names_and_a_folder_with_one_model_gives_it_the_folder_name()
    {
        var loose = Touch("Stories260K.gguf");
        var pulled = Touch("gemma-3-4b-it", "gemma-3-4b-it-Q4_K_M.gguf");
        Touch("gemma-3-4b-it", "mmproj-model-f16.gguf");
        Touch("gemma-3-4b-it", "gemma-3-4b-it-Q4_K_M.gguf.partial");

        Assert.Equal([("stories260k", loose), ("gemma-3-4b-it", pulled)], GgufDiscovery.Find([_models]));
    }

    [Fact]
    public void A_linked_model_file_has_its_targets_size()
    {
        var weights = Path.Combine(_models, "blobs", "sha256-abc");
        Directory.CreateDirectory(Path.GetDirectoryName(weights)!);
        File.WriteAllBytes(weights, new byte[4096]);
        var link = Path.Combine(_models, "model.gguf");
        File.CreateSymbolicLink(link, weights);

        Assert.Equal(4096, GgufDiscovery.FileSize(link));
        Assert.Equal(4096, GgufDiscovery.FileSize(weights));
    }

    [Fact]
    public void A_projector_alone_is_never_a_model()
    {
        Touch("mmproj-F16.gguf");
        Touch("vision", "mmproj-model-f16.gguf");

        Assert.Empty(GgufDiscovery.Find([_models]));
    }

    [Fact]
    public void A_split_model_is_one_model_once_every_part_is_there()
    {
        Touch("big", "Big-Q4_K_M-00001-of-00002.gguf");
        var warnings = new List<string>();

        Assert.Empty(GgufDiscovery.Find([_models], warnings.Add));
        Assert.Contains(warnings, w => w.Contains("Big-Q4_K_M-00002-of-00002.gguf"));

        Touch("big", "Big-Q4_K_M-00002-of-00002.gguf");
        Assert.Equal([("big", Path.Combine(_models, "big", "Big-Q4_K_M-00001-of-00002.gguf"))], GgufDiscovery.Find([_models]));
    }

    [Fact]
    public void A_loose_split_model_is_named_without_its_part_suffix()
    {
        var first = Touch("Big-00001-of-00002.gguf");
        Touch("Big-00002-of-00002.gguf");

        Assert.Equal([("big", first)], GgufDiscovery.Find([_models]));
    }
}
