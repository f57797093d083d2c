using System.Runtime.InteropServices;
using SkiaSharp;

namespace Castor.Application.Media;

/// <summary>
/// HEIC and HEIF through the system's libheif (Debian <c>libheif1</c>; Skia has no HEIF codec). The primary image's
/// size is read from the container before anything is decoded; libheif applies the container's rotation and mirroring.
/// When libheif is not installed, such parts are refused with a message that says so.
/// </summary>
internal static partial class HeifDecoding
{
    private const string Library = "libheif.so.1";
    private const int ColorspaceRgb = 1;
    private const int ChromaInterleavedRgb = 10;
    private const int ChannelInterleaved = 10;

    private static readonly Lazy<bool> Present = new(() => NativeLibrary.TryLoad(Library, out _));

    public static bool IsAvailable => Present.Value;

    public static unsafe (int Width, int Height, byte[] Rgb) Decode(ReadOnlySpan<byte> bytes, string format, MediaLimits limits)
    {
        if (!IsAvailable)
            throw new MediaRefusal($"{format} images need libheif, which is not installed on this server (Debian: apt-get install libheif1); send PNG, JPEG or WebP.");
        var context = heif_context_alloc();
        if (context == IntPtr.Zero) throw new MediaRefusal($"the {format} image could not be read.");
        IntPtr handle = IntPtr.Zero, image = IntPtr.Zero;
        try
        {
            fixed (byte* data = bytes)
            {
                Check(heif_context_read_from_memory_without_copy(context, data, (nuint)bytes.Length, IntPtr.Zero), format);
                Check(heif_context_get_primary_image_handle(context, out handle), format);
                var (width, height) = (heif_image_handle_get_width(handle), heif_image_handle_get_height(handle));
                ImageDecoding.CheckDimensions(width, height, format, limits);
                if ((long)width * height > limits.MaxImageDecodePixels)
                    throw new MediaRefusal($"the {format} image is {width}x{height} pixels; {format} images of at most {limits.MaxImageDecodePixels} pixels can be read.");

                Check(heif_decode_image(handle, out image, ColorspaceRgb, ChromaInterleavedRgb, IntPtr.Zero), format);
                var plane = heif_image_get_plane_readonly(image, ChannelInterleaved, out var stride);
                var (w, h) = (heif_image_get_width(image, ChannelInterleaved), heif_image_get_height(image, ChannelInterleaved));
                if (plane == null || w <= 0 || h <= 0 || stride < w * 3)
                    throw new MediaRefusal($"the {format} image is corrupt (no pixel data).");

                // Through a Skia bitmap only to share the one scaling path with the other formats.
                using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul, SKColorSpace.CreateSrgb()));
                var target = bitmap.GetPixelSpan();
                var rowBytes = bitmap.RowBytes;
                fixed (byte* output = target)
                    for (var y = 0; y < h; y++)
                    {
                        var src = plane + (long)y * stride;
                        var dst = output + (long)y * rowBytes;
                        for (var x = 0; x < w; x++)
                        {
                            dst[x * 4] = src[x * 3];
                            dst[x * 4 + 1] = src[x * 3 + 1];
                            dst[x * 4 + 2] = src[x * 3 + 2];
                            dst[x * 4 + 3] = 255;
                        }
                    }
                return ImageDecoding.Scaled(bitmap, limits.MaxImagePixels);
            }
        }
        finally
        {
            if (image != IntPtr.Zero) heif_image_release(image);
            if (handle != IntPtr.Zero) heif_image_handle_release(handle);
            heif_context_free(context);
        }
    }

    private static void Check(HeifError error, string format)
    {
        if (error.Code == 0) return;
        var message = error.Message == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(error.Message);
        throw new MediaRefusal($"the {format} image could not be decoded ({(string.IsNullOrEmpty(message) ? "error " + error.Code : message)}).");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct HeifError
    {
        public int Code;
        public int Subcode;
        public IntPtr Message;
    }

#pragma warning disable SA1300, IDE1006 // libheif's own names
    [LibraryImport(Library)]
    private static partial IntPtr heif_context_alloc();

    [LibraryImport(Library)]
    private static partial void heif_context_free(IntPtr context);

    [LibraryImport(Library)]
    private static unsafe partial HeifError heif_context_read_from_memory_without_copy(IntPtr context, byte* data, nuint size, IntPtr options);

    [LibraryImport(Library)]
    private static partial HeifError heif_context_get_primary_image_handle(IntPtr context, out IntPtr handle);

    [LibraryImport(Library)]
    private static partial int heif_image_handle_get_width(IntPtr handle);

    [LibraryImport(Library)]
    private static partial int heif_image_handle_get_height(IntPtr handle);

    [LibraryImport(Library)]
    private static partial void heif_image_handle_release(IntPtr handle);

    [LibraryImport(Library)]
    private static partial HeifError heif_decode_image(IntPtr handle, out IntPtr image, int colorspace, int chroma, IntPtr options);

    [LibraryImport(Library)]
    private static unsafe partial byte* heif_image_get_plane_readonly(IntPtr image, int channel, out int stride);

    [LibraryImport(Library)]
    private static partial int heif_image_get_width(IntPtr image, int channel);

    [LibraryImport(Library)]
    private static partial int heif_image_get_height(IntPtr image, int channel);

    [LibraryImport(Library)]
    private static partial void heif_image_release(IntPtr image);
#pragma warning restore SA1300, IDE1006
}
