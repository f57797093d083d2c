using NLayer;
using NVorbis;

namespace Castor.Application.Media;

/// <summary>
/// MP3 (NLayer) and Ogg Vorbis (NVorbis), both fully managed. Samples are read in blocks and counted, so a clip past the
/// limit stops decoding one block after it, whatever its header claims.
/// </summary>
internal static class CompressedAudioDecoding
{
    private const int Block = 16_384;

    public static PcmAudio Mp3(byte[] bytes, MediaLimits limits, CancellationToken cancellationToken)
    {
        try
        {
            using var file = new MpegFile(new MemoryStream(bytes, writable: false));
            var (rate, channels) = (file.SampleRate, file.Channels);
            if (rate <= 0 || channels <= 0) throw new MediaRefusal("the MP3 file has no readable audio frames.");
            return ReadAll((buffer, count) => file.ReadSamples(buffer, 0, count), rate, channels, "audio/mp3", limits, cancellationToken);
        }
        catch (Exception ex) when (ex is not (MediaRefusal or OperationCanceledException))
        {
            throw new MediaRefusal("the MP3 file is corrupt or truncated (" + ex.Message.TrimEnd('.') + ").");
        }
    }

    /// <summary>Ogg Vorbis; null when the Ogg file holds another codec (Opus, FLAC), which FFmpeg then decodes.</summary>
    public static PcmAudio? Vorbis(byte[] bytes, MediaLimits limits, CancellationToken cancellationToken)
    {
        VorbisReader reader;
        try
        {
            reader = new VorbisReader(new MemoryStream(bytes, writable: false), closeOnDispose: true);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Not Vorbis in the first logical stream: let the FFmpeg path try (it reports corruption itself).
            return null;
        }
        try
        {
            using (reader)
            {
                var (rate, channels) = (reader.SampleRate, reader.Channels);
                if (rate <= 0 || channels <= 0) throw new MediaRefusal("the Ogg Vorbis file has no readable audio.");
                return ReadAll((buffer, count) => reader.ReadSamples(buffer, 0, count), rate, channels, "audio/ogg", limits, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not (MediaRefusal or OperationCanceledException))
        {
            throw new MediaRefusal("the Ogg Vorbis file is corrupt or truncated (" + ex.Message.TrimEnd('.') + ").");
        }
    }

    /// <summary>Reads blocks of interleaved samples and mixes each down at once, so only the mono signal is kept.</summary>
    private static PcmAudio ReadAll(Func<float[], int, int> read, int rate, int channels, string format, MediaLimits limits, CancellationToken cancellationToken)
    {
        var maxFrames = PcmAudio.MaxFrames(limits, rate);
        var buffer = new float[Block - Block % channels];
        var mono = new List<float>();
        int n;
        // Both decoders return whole frames (the buffer holds a whole number of them).
        while ((n = read(buffer, buffer.Length)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var frames = n / channels;
            mono.AddRange(PcmAudio.Mixdown(buffer.AsSpan(0, frames * channels), channels));
            if (mono.Count > maxFrames) throw PcmAudio.TooLong(format, limits);
        }
        if (mono.Count == 0) throw new MediaRefusal($"the {format} file holds no audio frames (corrupt or truncated).");
        var samples = mono.ToArray();
        for (var i = 0; i < samples.Length; i++) samples[i] = WavDecoding.Clamp(samples[i]);
        return new PcmAudio(samples, rate);
    }
}
