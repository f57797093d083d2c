using SkiaSharp;

namespace Castor.Application.Media;

/// <summary>
/// Turns an image stored sideways (EXIF orientation, as phone cameras write it) upright, so the model sees what a viewer
/// shows.
/// </summary>
internal static class Orientation
{
    public static (int Width, int Height, byte[] Rgb) Apply(SKEncodedOrigin origin, int width, int height, byte[] rgb)
    {
        if (origin is SKEncodedOrigin.TopLeft or 0) return (width, height, rgb);
        var transposed = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var (w, h) = transposed ? (height, width) : (width, height);
        var output = new byte[rgb.Length];
        for (var y = 0; y < h; y++)
        for (var x = 0; x < w; x++)
        {
            // (x, y) upright comes from (sx, sy) as stored.
            var (sx, sy) = origin switch
            {
                SKEncodedOrigin.TopRight => (width - 1 - x, y),
                SKEncodedOrigin.BottomRight => (width - 1 - x, height - 1 - y),
                SKEncodedOrigin.BottomLeft => (x, height - 1 - y),
                SKEncodedOrigin.LeftTop => (y, x),
                SKEncodedOrigin.RightTop => (y, height - 1 - x),
                SKEncodedOrigin.RightBottom => (width - 1 - y, height - 1 - x),
                SKEncodedOrigin.LeftBottom => (width - 1 - y, x),
                _ => (x, y),
            };
            var s = (sy * width + sx) * 3;
            var d = (y * w + x) * 3;
            output[d] = rgb[s];
            output[d + 1] = rgb[s + 1];
            output[d + 2] = rgb[s + 2];
        }
        return (w, h, output);
    }
}
