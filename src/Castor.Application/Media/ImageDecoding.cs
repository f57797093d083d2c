using SkiaSharp;

namespace Castor.Application.Media;

/// <summary>
/// PNG, JPEG and WebP through SkiaSharp (Skia's own codecs, no system libraries), to sRGB RGB rows. The header is read
/// first and the pixel bounds applied before any pixel buffer exists; JPEG and WebP decode straight to a smaller size
/// when the image is larger than needed. EXIF orientation is applied and alpha is dropped (as llama.cpp's own loader does).
/// </summary>
internal static class ImageDecoding
{
    public static (int Width, int Height, byte[] Rgb) Decode(ReadOnlySpan<byte> bytes, string format, MediaLimits limits)
    {
        using var data = SKData.CreateCopy(bytes);
        using var stream = new SKMemoryStream(data);
        using var codec = SKCodec.Create(stream, out var result);
        if (codec is null)
            throw new MediaRefusal($"the data is not a readable {format} image ({Describe(result)}).");
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        CheckDimensions(width, height, format, limits);

        // Decode at the smallest size the codec offers that is still at least the output size, so a 48 MP JPEG never
        // exists at full size in memory. PNG offers only its own size.
        var scale = OutputScale(width, height, limits.MaxImagePixels);
        var size = scale < 1 ? codec.GetScaledDimensions((float)scale) : new SKSizeI(width, height);
        if (size.Width <= 0 || size.Height <= 0 || (long)size.Width * size.Height < (long)(width * scale) * (long)(height * scale))
            size = new SKSizeI(width, height);
        if ((long)size.Width * size.Height > limits.MaxImageDecodePixels)
            throw new MediaRefusal($"the {format} image is {width}x{height} pixels; {format} images of at most {limits.MaxImageDecodePixels} pixels can be read.");

        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul, SKColorSpace.CreateSrgb());
        using var bitmap = new SKBitmap();
        if (!bitmap.TryAllocPixels(info))
            throw new MediaRefusal($"the {format} image is too large to decode here.");
        result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
            throw new MediaRefusal($"the {format} image is corrupt or truncated ({Describe(result)}).");

        var (w, h, rgb) = Scaled(bitmap, limits.MaxImagePixels);
        return Orientation.Apply(codec.EncodedOrigin, w, h, rgb);
    }

    /// <summary>Zero, negative or absurd sizes are refused before anything is allocated.</summary>
    public static void CheckDimensions(int width, int height, string format, MediaLimits limits)
    {
        if (width <= 0 || height <= 0)
            throw new MediaRefusal($"the {format} image has no pixels ({width}x{height}).");
        if ((long)width * height > limits.MaxImageInputPixels)
            throw new MediaRefusal($"the {format} image is {width}x{height} pixels; images of at most {limits.MaxImageInputPixels} pixels are accepted.");
    }

    /// <summary>The factor that brings the image within <paramref name="maxPixels"/> (1 when it already is).</summary>
    public static double OutputScale(int width, int height, long maxPixels) =>
        (long)width * height <= maxPixels ? 1 : Math.Sqrt(maxPixels / ((double)width * height));

    /// <summary>The bitmap as RGB rows, scaled down (area-averaging through mipmaps) to at most <paramref name="maxPixels"/>.</summary>
    public static (int Width, int Height, byte[] Rgb) Scaled(SKBitmap bitmap, long maxPixels)
    {
        var scale = OutputScale(bitmap.Width, bitmap.Height, maxPixels);
        if (scale >= 1) return (bitmap.Width, bitmap.Height, ToRgb(bitmap));
        var width = Math.Max(1, (int)(bitmap.Width * scale));
        var height = Math.Max(1, (int)(bitmap.Height * scale));
        using var resized = bitmap.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul, bitmap.ColorSpace),
            new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
            ?? throw new MediaRefusal("the image could not be scaled down.");
        return (width, height, ToRgb(resized));
    }

    private static byte[] ToRgb(SKBitmap bitmap)
    {
        var rgba = bitmap.GetPixelSpan();
        var stride = bitmap.RowBytes;
        var rgb = new byte[bitmap.Width * bitmap.Height * 3];
        var o = 0;
        for (var y = 0; y < bitmap.Height; y++)
        {
            var row = rgba.Slice(y * stride, bitmap.Width * 4);
            for (var x = 0; x < row.Length; x += 4)
            {
                rgb[o++] = row[x];
                rgb[o++] = row[x + 1];
                rgb[o++] = row[x + 2];
            }
        }
        return rgb;
    }

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput => "the data ends early or is damaged",
        SKCodecResult.InvalidInput => "invalid header",
        SKCodecResult.Unimplemented => "a variant this server cannot decode",
        _ => result.ToString(),
    };
}
