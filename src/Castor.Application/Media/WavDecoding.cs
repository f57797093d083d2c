using System.Buffers.Binary;

namespace Castor.Application.Media;

/// <summary>
/// WAV (RIFF) in managed code: PCM of 8, 16, 24 or 32 bits, IEEE float of 32 or 64 bits, in plain or
/// WAVE_FORMAT_EXTENSIBLE headers, any number of channels (mixed down to mono). The length is known from the header, so a
/// clip past the limit is refused before its samples are converted.
/// </summary>
internal static class WavDecoding
{
    private const int FormatPcm = 1;
    private const int FormatFloat = 3;
    private const int FormatExtensible = 0xFFFE;

    public static PcmAudio Decode(ReadOnlySpan<byte> bytes, MediaLimits limits)
    {
        if (bytes.Length < 12 || !bytes.StartsWith("RIFF"u8) || !bytes[8..12].SequenceEqual("WAVE"u8))
            throw new MediaRefusal(bytes.StartsWith("RIFX"u8) ? "big-endian WAV (RIFX) is not supported; send little-endian RIFF WAV." : "the data is not a WAV file.");
        int format = 0, channels = 0, rate = 0, bits = 0, blockAlign = 0;
        var haveFormat = false;
        var at = 12;
        while (at + 8 <= bytes.Length)
        {
            var id = bytes.Slice(at, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(at + 4)..]);
            var body = at + 8;
            if (id.SequenceEqual("fmt "u8))
            {
                if (size < 16 || body + size > bytes.Length) throw new MediaRefusal("the WAV file's format chunk is truncated.");
                var fmt = bytes.Slice(body, (int)size);
                format = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
                rate = BinaryPrimitives.ReadInt32LittleEndian(fmt[4..]);
                blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(fmt[12..]);
                bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);
                if (format == FormatExtensible)
                {
                    if (size < 40) throw new MediaRefusal("the WAV file's extensible format chunk is truncated.");
                    // The sub-format GUID starts with the plain format code.
                    format = BinaryPrimitives.ReadUInt16LittleEndian(fmt[24..]);
                }
                haveFormat = true;
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (!haveFormat) throw new MediaRefusal("the WAV file has no format chunk before its data.");
                var available = bytes.Length - body;
                // Streaming writers leave the size 0 or 0xFFFFFFFF: the data then runs to the end of the file.
                long length = size is 0 or uint.MaxValue ? available : size;
                if (length > available) throw new MediaRefusal($"the WAV file is truncated: its data chunk declares {size} bytes but {available} follow.");
                return Samples(bytes.Slice(body, (int)length), format, channels, rate, bits, blockAlign, limits);
            }
            var next = body + size + (size & 1);
            if (next > bytes.Length) break;
            at = (int)next;
        }
        throw new MediaRefusal(haveFormat ? "the WAV file has no data chunk (truncated?)." : "the WAV file has no format chunk.");
    }

    private static PcmAudio Samples(ReadOnlySpan<byte> data, int format, int channels, int rate, int bits, int blockAlign, MediaLimits limits)
    {
        if (channels is < 1 or > 64) throw new MediaRefusal($"the WAV file declares {channels} channels.");
        if (rate is < 1000 or > 768_000) throw new MediaRefusal($"the WAV file declares a sample rate of {rate} Hz.");
        var bytesPerSample = bits / 8;
        var valid = (format, bits) is (FormatPcm, 8 or 16 or 24 or 32) or (FormatFloat, 32 or 64);
        if (!valid)
            throw new MediaRefusal(format is FormatPcm or FormatFloat
                ? $"{bits}-bit WAV samples are not supported; send 8, 16, 24 or 32-bit PCM or 32/64-bit float."
                : $"WAV format code {format} (compressed) is not supported; send PCM or float WAV.");
        if (blockAlign != bytesPerSample * channels) blockAlign = bytesPerSample * channels;
        long frames = data.Length / blockAlign;
        if (frames == 0) throw new MediaRefusal("the WAV file holds no samples.");
        if (frames > PcmAudio.MaxFrames(limits, rate)) throw PcmAudio.TooLong("audio/wav", limits);

        var mono = new float[frames];
        for (var i = 0; i < frames; i++)
        {
            var frame = data.Slice(i * blockAlign, blockAlign);
            var sum = 0.0;
            for (var c = 0; c < channels; c++)
            {
                var s = frame.Slice(c * bytesPerSample, bytesPerSample);
                sum += (format, bits) switch
                {
                    (FormatPcm, 8) => (s[0] - 128) / 128.0,
                    (FormatPcm, 16) => BinaryPrimitives.ReadInt16LittleEndian(s) / 32768.0,
                    (FormatPcm, 24) => ((s[0] | s[1] << 8 | s[2] << 16) << 8 >> 8) / 8388608.0,
                    (FormatPcm, _) => BinaryPrimitives.ReadInt32LittleEndian(s) / 2147483648.0,
                    (_, 32) => BinaryPrimitives.ReadSingleLittleEndian(s),
                    _ => BinaryPrimitives.ReadDoubleLittleEndian(s),
                };
            }
            mono[i] = Clamp(sum / channels);
        }
        return new PcmAudio(mono, rate);
    }

    /// <summary>Float files may hold NaN or values past ±1; the projector gets neither.</summary>
    internal static float Clamp(double value) => double.IsNaN(value) ? 0f : (float)Math.Clamp(value, -1.0, 1.0);
}
