using System.Buffers.Binary;
using System.Text;
using SkiaSharp;

namespace Castor.UnitTests.Media;

/// <summary>Images and audio made in code (SkiaSharp, hand-written RIFF and AIFF), and the committed compressed clips.</summary>
internal static class TestMedia
{
    public static byte[] FixtureBytes(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Media", "Fixtures", name));

    public static SKBitmap Bitmap(int width, int height, Func<int, int, SKColor> colour)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
            bitmap.SetPixel(x, y, colour(x, y));
        return bitmap;
    }

    public static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format, int quality = 100)
    {
        using var pixmap = bitmap.PeekPixels();
        using var data = format == SKEncodedImageFormat.Webp
            ? pixmap.Encode(new SKWebpEncoderOptions(quality == 100 ? SKWebpEncoderCompression.Lossless : SKWebpEncoderCompression.Lossy, quality))
            : pixmap.Encode(format, quality);
        return (data ?? throw new InvalidOperationException("Skia could not encode " + format)).ToArray();
    }

    /// <summary>Four quadrants: red, green / blue, white.</summary>
    public static SKBitmap Quadrants(int width, int height) => Bitmap(width, height, (x, y) =>
        (x < width / 2, y < height / 2) switch
        {
            (true, true) => SKColors.Red,
            (false, true) => new SKColor(0, 255, 0),
            (true, false) => SKColors.Blue,
            _ => SKColors.White,
        });

    public static float[] Sine(double frequency, int rate, double seconds, double amplitude = 0.5) =>
        Enumerable.Range(0, (int)(rate * seconds)).Select(i => (float)(amplitude * Math.Sin(2 * Math.PI * frequency * i / rate))).ToArray();

    /// <summary>A WAV file of <paramref name="mono"/> copied into every channel, as PCM of <paramref name="bits"/> or 32-bit float.</summary>
    public static byte[] Wav(float[] mono, int rate, int channels = 1, int bits = 16, bool isFloat = false, bool extensible = false)
    {
        var bytesPerSample = bits / 8;
        var data = new byte[mono.Length * channels * bytesPerSample];
        var at = 0;
        foreach (var sample in mono)
            for (var c = 0; c < channels; c++)
            {
                var s = data.AsSpan(at, bytesPerSample);
                if (isFloat) BinaryPrimitives.WriteSingleLittleEndian(s, sample);
                else if (bits == 8) s[0] = (byte)Math.Clamp(Math.Round(sample * 127) + 128, 0, 255);
                else if (bits == 16) BinaryPrimitives.WriteInt16LittleEndian(s, (short)Math.Round(sample * 32767));
                else if (bits == 24)
                {
                    var v = (int)Math.Round(sample * 8388607);
                    s[0] = (byte)v;
                    s[1] = (byte)(v >> 8);
                    s[2] = (byte)(v >> 16);
                }
                else BinaryPrimitives.WriteInt32LittleEndian(s, (int)Math.Round(sample * 2147483647.0));
                at += bytesPerSample;
            }
        var fmtSize = extensible ? 40 : 16;
        var wav = new MemoryStream();
        var w = new BinaryWriter(wav);
        w.Write("RIFF"u8);
        w.Write(4 + 8 + fmtSize + 8 + data.Length);
        w.Write("WAVE"u8);
        w.Write("fmt "u8);
        w.Write(fmtSize);
        w.Write((ushort)(extensible ? 0xFFFE : isFloat ? 3 : 1));
        w.Write((ushort)channels);
        w.Write(rate);
        w.Write(rate * channels * bytesPerSample);
        w.Write((ushort)(channels * bytesPerSample));
        w.Write((ushort)bits);
        if (extensible)
        {
            w.Write((ushort)22);
            w.Write((ushort)bits);
            w.Write(0);
            // KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT: the format code, then the fixed GUID tail.
            w.Write((ushort)(isFloat ? 3 : 1));
            w.Write(new byte[] { 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71 });
        }
        w.Write("data"u8);
        w.Write(data.Length);
        w.Write(data);
        return wav.ToArray();
    }

    /// <summary>A 16-bit big-endian AIFF file.</summary>
    public static byte[] Aiff(float[] mono, int rate, int channels = 1)
    {
        var data = new byte[mono.Length * channels * 2];
        for (var i = 0; i < mono.Length; i++)
            for (var c = 0; c < channels; c++)
                BinaryPrimitives.WriteInt16BigEndian(data.AsSpan((i * channels + c) * 2), (short)Math.Round(mono[i] * 32767));
        var body = new MemoryStream();
        body.Write("AIFF"u8);
        body.Write("COMM"u8);
        body.Write(BigEndian(18));
        Span<byte> comm = stackalloc byte[18];
        BinaryPrimitives.WriteInt16BigEndian(comm, (short)channels);
        BinaryPrimitives.WriteUInt32BigEndian(comm[2..], (uint)mono.Length);
        BinaryPrimitives.WriteInt16BigEndian(comm[6..], 16);
        Extended(rate, comm[8..]);
        body.Write(comm);
        body.Write("SSND"u8);
        body.Write(BigEndian(8 + data.Length));
        body.Write(BigEndian(0));
        body.Write(BigEndian(0));
        body.Write(data);
        var file = new MemoryStream();
        file.Write("FORM"u8);
        file.Write(BigEndian((int)body.Length));
        body.Position = 0;
        body.CopyTo(file);
        return file.ToArray();
    }

    private static byte[] BigEndian(int value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b, value);
        return b;
    }

    /// <summary>An integer sample rate as an 80-bit extended float.</summary>
    private static void Extended(int value, Span<byte> into)
    {
        var top = 31 - System.Numerics.BitOperations.LeadingZeroCount((uint)value);
        BinaryPrimitives.WriteUInt16BigEndian(into, (ushort)(16383 + top));
        BinaryPrimitives.WriteUInt64BigEndian(into[2..], (ulong)value << (63 - top));
    }

    /// <summary>A PNG with only a header (IHDR with a correct CRC) claiming <paramref name="width"/> × <paramref name="height"/>.</summary>
    public static byte[] PngHeaderOnly(int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] body)
    {
        png.Write(BigEndian(body.Length));
        var typed = Encoding.ASCII.GetBytes(type).Concat(body).ToArray();
        png.Write(typed);
        png.Write(BigEndian((int)Crc32(typed)));
    }

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return crc ^ 0xFFFFFFFFu;
    }

    /// <summary>
    /// The JPEG with an EXIF APP1 segment right after its SOI marker that sets <paramref name="orientation"/> (1–8), as a
    /// phone camera writes a picture taken sideways.
    /// </summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        var tiff = new MemoryStream();
        tiff.Write("II*\0"u8);
        tiff.Write(BitConverter.GetBytes(8));          // first IFD right after the header
        tiff.Write(BitConverter.GetBytes((ushort)1));  // one entry
        tiff.Write(BitConverter.GetBytes((ushort)0x0112));
        tiff.Write(BitConverter.GetBytes((ushort)3));  // SHORT
        tiff.Write(BitConverter.GetBytes(1));
        tiff.Write(BitConverter.GetBytes(orientation));
        tiff.Write(BitConverter.GetBytes((ushort)0));
        tiff.Write(BitConverter.GetBytes(0));          // no next IFD
        var payload = "Exif\0\0"u8.ToArray().Concat(tiff.ToArray()).ToArray();
        var segment = new byte[4 + payload.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(payload.Length + 2));
        payload.CopyTo(segment, 4);
        return [.. jpeg[..2], .. segment, .. jpeg[2..]];
    }

    /// <summary>How often the signal crosses zero upwards per second: a tone's frequency, roughly.</summary>
    public static double Frequency(float[] samples, int rate)
    {
        var crossings = 0;
        for (var i = 1; i < samples.Length; i++)
            if (samples[i - 1] < 0 && samples[i] >= 0) crossings++;
        return crossings / ((double)samples.Length / rate);
    }
}
