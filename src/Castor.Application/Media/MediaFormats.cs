using System.Buffers.Binary;
using Castor.Application.Files;

namespace Castor.Application.Media;

/// <summary>
/// Which MIME types name which <see cref="MediaFormat"/>, and whether a file's first bytes are of that format. The API's
/// own names come first; common aliases clients send (<c>audio/mpeg</c>, <c>audio/x-wav</c>, <c>image/jpg</c>) are taken too.
/// </summary>
public static class MediaFormats
{
    private static readonly Dictionary<string, MediaFormat> ByType = new(StringComparer.Ordinal)
    {
        ["image/png"] = MediaFormat.Png,
        ["image/jpeg"] = MediaFormat.Jpeg,
        ["image/jpg"] = MediaFormat.Jpeg,
        ["image/webp"] = MediaFormat.Webp,
        ["image/heic"] = MediaFormat.Heic,
        ["image/heif"] = MediaFormat.Heif,
        ["audio/wav"] = MediaFormat.Wav,
        ["audio/x-wav"] = MediaFormat.Wav,
        ["audio/wave"] = MediaFormat.Wav,
        ["audio/vnd.wave"] = MediaFormat.Wav,
        ["audio/mp3"] = MediaFormat.Mp3,
        ["audio/mpeg"] = MediaFormat.Mp3,
        ["audio/aiff"] = MediaFormat.Aiff,
        ["audio/x-aiff"] = MediaFormat.Aiff,
        ["audio/aac"] = MediaFormat.Aac,
        ["audio/x-aac"] = MediaFormat.Aac,
        ["audio/ogg"] = MediaFormat.Ogg,
        ["audio/flac"] = MediaFormat.Flac,
        ["audio/x-flac"] = MediaFormat.Flac,
    };

    /// <summary>The accepted types as the API lists them, for error messages.</summary>
    public const string ImageTypes = "image/png, image/jpeg, image/webp, image/heic, image/heif";

    /// <inheritdoc cref="ImageTypes"/>
    public const string AudioTypes = "audio/wav, audio/mp3, audio/aiff, audio/aac, audio/ogg, audio/flac";

    /// <summary>The format a MIME type names (parameters ignored); null for any other type.</summary>
    public static MediaFormat? Of(string? mimeType) => ByType.TryGetValue(MediaTypes.Essence(mimeType), out var f) ? f : null;

    /// <summary>Whether the type is an image or audio type at all (accepted or not): such parts are media, never text.</summary>
    public static MediaKind? KindOf(string? mimeType)
    {
        var essence = MediaTypes.Essence(mimeType);
        if (essence.StartsWith("image/", StringComparison.Ordinal)) return MediaKind.Image;
        if (essence.StartsWith("audio/", StringComparison.Ordinal)) return MediaKind.Audio;
        return null;
    }

    public static MediaKind KindOf(MediaFormat format) => format <= MediaFormat.Heif ? MediaKind.Image : MediaKind.Audio;

    /// <summary>The type's name for messages: <c>image/png</c>.</summary>
    public static string Name(MediaFormat format) =>
        (KindOf(format) == MediaKind.Image ? "image/" : "audio/") + format.ToString().ToLowerInvariant();

    /// <summary>
    /// Whether <paramref name="data"/> starts as a file of <paramref name="format"/> does: a signature check only, so
    /// that a JPEG labelled image/png or text labelled audio/wav is refused as such rather than as "corrupt".
    /// </summary>
    public static bool HasSignature(MediaFormat format, ReadOnlySpan<byte> data) => format switch
    {
        MediaFormat.Png => data.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]),
        MediaFormat.Jpeg => data.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]),
        MediaFormat.Webp => data.Length >= 12 && data.StartsWith("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8),
        MediaFormat.Heic or MediaFormat.Heif => IsHeif(data),
        MediaFormat.Wav => data.Length >= 12 && (data.StartsWith("RIFF"u8) || data.StartsWith("RIFX"u8)) && data[8..12].SequenceEqual("WAVE"u8),
        MediaFormat.Aiff => data.Length >= 12 && data.StartsWith("FORM"u8) && (data[8..12].SequenceEqual("AIFF"u8) || data[8..12].SequenceEqual("AIFC"u8)),
        MediaFormat.Ogg => data.StartsWith("OggS"u8),
        MediaFormat.Flac => data.StartsWith("fLaC"u8) || (data.StartsWith("ID3"u8) && AfterId3(data).StartsWith("fLaC"u8)),
        MediaFormat.Mp3 => data.StartsWith("ID3"u8) ? IsMpegAudio(AfterId3(data)) || AfterId3(data).IsEmpty : IsMpegAudio(data),
        // ADTS frames (what audio/aac names), ADIF, or AAC in an MP4 container (.m4a).
        MediaFormat.Aac => IsAdts(data) || data.StartsWith("ADIF"u8) || (data.StartsWith("ID3"u8) && IsAdts(AfterId3(data))) || IsMp4Audio(data),
        _ => false,
    };

    /// <summary>An MPEG audio frame header: 11 sync bits, a valid version and a layer (ADTS has layer 00 and is AAC).</summary>
    private static bool IsMpegAudio(ReadOnlySpan<byte> d) =>
        d.Length >= 4 && d[0] == 0xFF && (d[1] & 0xE0) == 0xE0 && (d[1] & 0x18) != 0x08 && (d[1] & 0x06) != 0 && (d[2] & 0xF0) != 0xF0;

    private static bool IsAdts(ReadOnlySpan<byte> d) => d.Length >= 7 && d[0] == 0xFF && (d[1] & 0xF6) == 0xF0;

    private static ReadOnlySpan<byte> AfterId3(ReadOnlySpan<byte> d)
    {
        if (d.Length < 10) return [];
        // The ID3v2 size is 4 bytes of 7 bits each, after the 10-byte header (plus a 10-byte footer when flagged).
        var size = (d[6] & 0x7F) << 21 | (d[7] & 0x7F) << 14 | (d[8] & 0x7F) << 7 | (d[9] & 0x7F);
        var end = 10L + size + ((d[5] & 0x10) != 0 ? 10 : 0);
        return end >= d.Length ? [] : d[(int)end..];
    }

    private static bool IsHeif(ReadOnlySpan<byte> d)
    {
        if (d.Length < 16 || !d[4..8].SequenceEqual("ftyp"u8)) return false;
        var size = BinaryPrimitives.ReadUInt32BigEndian(d);
        if (size < 16 || size > d.Length) return false;
        // The major brand, then the compatible brands.
        for (var at = 8; at + 4 <= size; at += at == 8 ? 8 : 4)
            if (IsHeifBrand(d.Slice(at, 4))) return true;
        return false;
    }

    private static bool IsHeifBrand(ReadOnlySpan<byte> b) =>
        b.SequenceEqual("heic"u8) || b.SequenceEqual("heix"u8) || b.SequenceEqual("heim"u8) || b.SequenceEqual("heis"u8) ||
        b.SequenceEqual("hevc"u8) || b.SequenceEqual("hevx"u8) || b.SequenceEqual("mif1"u8) || b.SequenceEqual("msf1"u8);

    private static bool IsMp4Audio(ReadOnlySpan<byte> d)
    {
        if (d.Length < 12 || !d[4..8].SequenceEqual("ftyp"u8)) return false;
        var brand = d[8..12];
        return brand.SequenceEqual("M4A "u8) || brand.SequenceEqual("mp42"u8) || brand.SequenceEqual("isom"u8) || brand.SequenceEqual("M4B "u8)
               || brand.SequenceEqual("mp41"u8) || brand.SequenceEqual("dash"u8);
    }
}
