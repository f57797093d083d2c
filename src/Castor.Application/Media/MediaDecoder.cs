using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Castor.Application.Errors;
using Castor.Engine.Media;

namespace Castor.Application.Media;

/// <summary>
/// The one place images and audio are decoded. Which path each type takes:
/// <list type="bullet">
/// <item>image/png, image/jpeg, image/webp: SkiaSharp (managed wrapper over Skia's bundled codecs).</item>
/// <item>image/heic, image/heif: the system libheif (Debian <c>libheif1</c>), P/Invoke.</item>
/// <item>audio/wav, audio/aiff: managed parsers in this folder.</item>
/// <item>audio/mp3: NLayer (managed); audio/ogg: NVorbis (managed) for Vorbis, FFmpeg for other Ogg codecs.</item>
/// <item>audio/flac, audio/aac: FFmpeg as a bounded child process (no managed decoder is available).</item>
/// </list>
/// Managed audio is resampled by <see cref="Resampler"/>; FFmpeg resamples itself. Every failure is a 400 naming the part.
/// </summary>
public sealed class MediaDecoder : IMediaDecoder
{
    public async Task<DecodedMedia> DecodeAsync(string mimeType, ReadOnlyMemory<byte> data, MediaLimits limits, int audioSampleRate, FieldPath field,
        CancellationToken cancellationToken)
    {
        if (MediaFormats.Of(mimeType) is not { } format)
            throw CastorException.InvalidField(field.Field("mimeType"), Unaccepted(mimeType));
        var name = MediaFormats.Name(format);
        if (data.IsEmpty)
            throw CastorException.InvalidField(field.Field("data"), $"the {name} data is empty.");
        if (!MediaFormats.HasSignature(format, data.Span))
            throw CastorException.InvalidField(field.Field("data"), $"the data is not {name}: its first bytes do not match the type's signature (is mimeType right?).");
        try
        {
            if (MediaFormats.KindOf(format) == MediaKind.Image)
            {
                // Decoding is CPU work of up to a few hundred milliseconds: off the request's thread.
                var (width, height, rgb) = await Task.Run(() => format is MediaFormat.Heic or MediaFormat.Heif
                    ? HeifDecoding.Decode(data.Span, name, limits)
                    : ImageDecoding.Decode(data.Span, name, limits), cancellationToken).ConfigureAwait(false);
                return new DecodedImage(name, ImageHash(width, height, rgb), width, height, rgb);
            }
            if (audioSampleRate is < 1000 or > 192_000)
                throw new ArgumentOutOfRangeException(nameof(audioSampleRate), audioSampleRate, "A projector's sample rate is between 1 kHz and 192 kHz.");
            var samples = await DecodeAudioAsync(format, data, limits, audioSampleRate, cancellationToken).ConfigureAwait(false);
            return new DecodedAudio(name, AudioHash(audioSampleRate, samples), samples, audioSampleRate);
        }
        catch (MediaRefusal refusal)
        {
            throw CastorException.InvalidField(field, refusal.Message);
        }
    }

    private static async Task<float[]> DecodeAudioAsync(MediaFormat format, ReadOnlyMemory<byte> data, MediaLimits limits, int rate, CancellationToken cancellationToken)
    {
        var bytes = MemoryMarshal.TryGetArray(data, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : data.ToArray();
        if (format is MediaFormat.Flac or MediaFormat.Aac)
            return await FfmpegAudioDecoding.DecodeAsync(bytes, format, rate, limits, cancellationToken).ConfigureAwait(false);
        var pcm = await Task.Run(() => format switch
        {
            MediaFormat.Wav => WavDecoding.Decode(bytes, limits),
            MediaFormat.Aiff => AiffDecoding.Decode(bytes, limits),
            MediaFormat.Mp3 => CompressedAudioDecoding.Mp3(bytes, limits, cancellationToken),
            _ => CompressedAudioDecoding.Vorbis(bytes, limits, cancellationToken) ?? default,
        }, cancellationToken).ConfigureAwait(false);
        if (pcm.Samples is null)
            return await FfmpegAudioDecoding.DecodeAsync(bytes, format, rate, limits, cancellationToken).ConfigureAwait(false);
        return await Task.Run(() => Resampler.Resample(pcm.Samples, pcm.SampleRate, rate, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The refusal for a type the API does not take (GIF, MIDI, video, …), listing what it does take.</summary>
    public static string Unaccepted(string? mimeType)
    {
        var essence = Files.MediaTypes.Essence(mimeType);
        var kind = MediaFormats.KindOf(mimeType);
        return $"Unsupported MIME type: {Files.MediaTypes.Printable(essence)}. " + kind switch
        {
            MediaKind.Image => $"Images must be one of {MediaFormats.ImageTypes}.",
            MediaKind.Audio => $"Audio must be one of {MediaFormats.AudioTypes}.",
            _ => $"Media must be one of {MediaFormats.ImageTypes}, {MediaFormats.AudioTypes}.",
        };
    }

    /// <summary>SHA-256 of the size and the RGB rows: the same picture is one item whichever file format carried it.</summary>
    internal static byte[] ImageHash(int width, int height, byte[] rgb)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> size = stackalloc byte[8];
        BitConverter.TryWriteBytes(size, width);
        BitConverter.TryWriteBytes(size[4..], height);
        hash.AppendData(size);
        hash.AppendData(rgb);
        return hash.GetHashAndReset();
    }

    /// <summary>SHA-256 of the rate and the samples (as little-endian floats).</summary>
    internal static byte[] AudioHash(int sampleRate, float[] samples)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> rate = stackalloc byte[4];
        BitConverter.TryWriteBytes(rate, sampleRate);
        hash.AppendData(rate);
        hash.AppendData(MemoryMarshal.AsBytes(samples.AsSpan()));
        return hash.GetHashAndReset();
    }
}
