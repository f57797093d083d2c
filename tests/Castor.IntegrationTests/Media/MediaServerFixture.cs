using Castor.Engine.Models;
using Castor.Server;

namespace Castor.IntegrationTests.Media;

/// <summary>
/// A server with three models: <c>stories-vision</c> and <c>stories-audio</c>, each a folder holding the test model and
/// one synthetic projector (paired automatically, as a Hugging Face GGUF repository's layout is), and the plain
/// <c>stories260k</c>, text only.
/// </summary>
public sealed class MediaServerFixture : CastorServerFixture
{
    private readonly string _models = Directory.CreateTempSubdirectory("castor-media-models-").FullName;

    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.Models = [Folder("stories-vision", "mlp"), Folder("stories-audio", "qwen2a"), TestModels.Stories260K];
        // Audio costs 1,500 tokens a clip on the synthetic Whisper projector.
        options.ContextSize = 2048;
        options.Parallel = 4;
        // Flash attention keeps a sequence's output independent of what shares its batches.
        options.FlashAttention = FlashAttentionMode.On;
        options.DefaultModel = "stories-vision";
        return options;
    }

    private string Folder(string model, string projector)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_models, model)).FullName;
        File.CreateSymbolicLink(Path.Combine(folder, model + ".gguf"), TestModels.Stories260K);
        File.Copy(TestMedia.Projector(projector), Path.Combine(folder, $"mmproj-{projector}.gguf"), overwrite: true);
        return folder;
    }
}
