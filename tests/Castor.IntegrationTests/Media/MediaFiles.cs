using SkiaSharp;

namespace Castor.IntegrationTests.Media;

/// <summary>Encoded media files as clients send them: PNG images of noise and WAV tones.</summary>
public static class MediaFiles
{
    public static byte[] Png(int seed, int width = 40, int height = 30)
    {
        var random = new Random(seed);
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A 16-bit mono PCM WAV of a tone.</summary>
    public static byte[] Wav(double seconds = 1, int rate = 16000, double hertz = 440)
    {
        var samples = (int)(rate * seconds);
        using var stream = new MemoryStream();
        using var w = new BinaryWriter(stream);
        w.Write("RIFF"u8);
        w.Write(36 + samples * 2);
        w.Write("WAVEfmt "u8);
        w.Write(16);
        w.Write((short)1);
        w.Write((short)1);
        w.Write(rate);
        w.Write(rate * 2);
        w.Write((short)2);
        w.Write((short)16);
        w.Write("data"u8);
        w.Write(samples * 2);
        for (var i = 0; i < samples; i++) w.Write((short)(12000 * Math.Sin(2 * Math.PI * hertz * i / rate)));
        w.Flush();
        return stream.ToArray();
    }
}
