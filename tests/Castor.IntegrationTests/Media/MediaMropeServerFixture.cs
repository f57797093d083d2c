using Castor.Engine.Models;
using Castor.Server;

namespace Castor.IntegrationTests.Media;

/// <summary>
/// A server with <c>qwen2vl-vision</c>: a folder holding a random-weight <c>qwen2vl</c> text model (M-RoPE) and a
/// random-weight <c>qwen2vl_merger</c> projector (dynamic resolution), paired as a Hugging Face GGUF repository's
/// layout is. A 160×120 image costs up to 300 tokens over 20 positions, so each sequence's window has room for several.
/// </summary>
public sealed class MediaMropeServerFixture : CastorServerFixture
{
    private readonly string _models = Directory.CreateTempSubdirectory("castor-mrope-models-").FullName;

    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        var folder = Directory.CreateDirectory(Path.Combine(_models, "qwen2vl-vision")).FullName;
        File.Copy(TestMedia.Qwen2VLModel(), Path.Combine(folder, "qwen2vl-vision.gguf"), overwrite: true);
        File.Copy(TestMedia.Projector("qwen2vl_merger"), Path.Combine(folder, "mmproj-qwen2vl.gguf"), overwrite: true);
        options.Models = [folder];
        options.ContextSize = 1536;
        options.Parallel = 2;
        // Flash attention keeps a sequence's output independent of what shares its batches.
        options.FlashAttention = FlashAttentionMode.On;
        options.DefaultModel = "qwen2vl-vision";
        return options;
    }
}
