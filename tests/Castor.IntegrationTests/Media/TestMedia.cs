using System.Security.Cryptography;
using Castor.Bench.Gguf;
using Castor.Engine.Media;

namespace Castor.IntegrationTests.Media;

/// <summary>Synthetic projectors for the test model (written once per test run) and decoded media to feed them.</summary>
public static class TestMedia
{
    private static readonly Lock Gate = new();
    private static string? _folder;

    /// <summary>A random-weight projector of <paramref name="type"/> (mlp, gemma3, qwen2vl_merger, qwen2a) for a text model of width 64 (stories260K, <see cref="Qwen2VLModel"/>).</summary>
    public static string Projector(string type)
    {
        lock (Gate)
        {
            _folder ??= Directory.CreateTempSubdirectory("castor-mmproj-").FullName;
            var path = Path.Combine(_folder, $"mmproj-{type}.gguf");
            if (!File.Exists(path)) SyntheticProjector.Write(path, type, textEmbedding: 64);
            return path;
        }
    }

    /// <summary>
    /// A random-weight text model of the <c>qwen2vl</c> architecture (M-RoPE, width 64) with the test model's tokenizer,
    /// the partner of the <c>qwen2vl_merger</c> projector.
    /// </summary>
    public static string Qwen2VLModel()
    {
        lock (Gate)
        {
            _folder ??= Directory.CreateTempSubdirectory("castor-mmproj-").FullName;
            var path = Path.Combine(_folder, "qwen2vl-synthetic.gguf");
            if (!File.Exists(path)) SyntheticQwen2VL.Write(path, TestModels.Stories260K);
            return path;
        }
    }

    /// <summary>A <paramref name="width"/>×<paramref name="height"/> image of noise from <paramref name="seed"/>.</summary>
    public static DecodedImage Image(int seed, int width = 40, int height = 30)
    {
        var rgb = new byte[width * height * 3];
        new Random(seed).NextBytes(rgb);
        return new DecodedImage("image/png", SHA256.HashData(rgb), width, height, rgb);
    }

    /// <summary><paramref name="seconds"/> of a tone at <paramref name="hertz"/>, 16 kHz mono.</summary>
    public static DecodedAudio Audio(double seconds = 1, double hertz = 440)
    {
        var samples = new float[(int)(16000 * seconds)];
        for (var i = 0; i < samples.Length; i++) samples[i] = (float)(0.5 * Math.Sin(2 * Math.PI * hertz * i / 16000));
        var bytes = new byte[samples.Length * 4];
        Buffer.BlockCopy(samples, 0, bytes, 0, bytes.Length);
        return new DecodedAudio("audio/wav", SHA256.HashData(bytes), samples, 16000);
    }
}
