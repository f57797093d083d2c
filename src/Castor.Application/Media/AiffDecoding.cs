using System.Buffers.Binary;

namespace Castor.Application.Media;

/// <summary>
/// AIFF and AIFF-C in managed code (no package reads them): big-endian PCM of 8 to 32 bits, AIFF-C's little-endian
/// <c>sowt</c> and 32/64-bit float (<c>fl32</c>, <c>fl64</c>), any number of channels (mixed down to mono).
/// </summary>
internal static class AiffDecoding
{
    public static PcmAudio Decode(ReadOnlySpan<byte> bytes, MediaLimits limits)
    {
        if (bytes.Length < 12 || !bytes.StartsWith("FORM"u8)) throw new MediaRefusal("the data is not an AIFF file.");
        var aifc = bytes[8..12].SequenceEqual("AIFC"u8);
        int channels = 0, bits = 0;
        long frames = 0;
        double rate = 0;
        var compression = "NONE";
        var haveCommon = false;
        var at = 12;
        while (at + 8 <= bytes.Length)
        {
            var id = bytes.Slice(at, 4);
            var size = BinaryPrimitives.ReadUInt32BigEndian(bytes[(at + 4)..]);
            var body = at + 8;
            if (id.SequenceEqual("COMM"u8))
            {
                if (size < 18 || body + size > bytes.Length) throw new MediaRefusal("the AIFF file's COMM chunk is truncated.");
                var comm = bytes.Slice(body, (int)size);
                channels = BinaryPrimitives.ReadInt16BigEndian(comm);
                frames = BinaryPrimitives.ReadUInt32BigEndian(comm[2..]);
                bits = BinaryPrimitives.ReadInt16BigEndian(comm[6..]);
                rate = Extended(comm.Slice(8, 10));
                if (aifc && size >= 22) compression = System.Text.Encoding.ASCII.GetString(comm.Slice(18, 4));
                haveCommon = true;
            }
            else if (id.SequenceEqual("SSND"u8))
            {
                if (!haveCommon) throw new MediaRefusal("the AIFF file has no COMM chunk before its sound data.");
                if (body + 8 > bytes.Length) throw new MediaRefusal("the AIFF file's sound data is truncated.");
                var offset = BinaryPrimitives.ReadUInt32BigEndian(bytes[body..]);
                var start = body + 8L + offset;
                var end = Math.Min(body + size, bytes.Length);
                if (start > end) throw new MediaRefusal("the AIFF file's sound data is truncated.");
                return Samples(bytes[(int)start..(int)end], channels, bits, frames, rate, compression, limits);
            }
            var next = body + size + (size & 1);
            if (next > bytes.Length) break;
            at = (int)next;
        }
        throw new MediaRefusal(haveCommon ? "the AIFF file has no sound data (truncated?)." : "the AIFF file has no COMM chunk.");
    }

    private static PcmAudio Samples(ReadOnlySpan<byte> data, int channels, int bits, long frames, double rate, string compression, MediaLimits limits)
    {
        if (channels is < 1 or > 64) throw new MediaRefusal($"the AIFF file declares {channels} channels.");
        if (double.IsNaN(rate) || rate is < 1000 or > 768_000) throw new MediaRefusal($"the AIFF file declares a sample rate of {rate} Hz.");
        var sampleRate = (int)Math.Round(rate);
        var (kind, bytesPerSample) = compression switch
        {
            "NONE" or "twos" when bits is >= 1 and <= 32 => ('b', (bits + 7) / 8),
            "sowt" when bits is >= 1 and <= 32 => ('l', (bits + 7) / 8),
            "fl32" or "FL32" => ('f', 4),
            "fl64" or "FL64" => ('d', 8),
            _ => throw new MediaRefusal($"AIFF-C compression '{compression}' is not supported; send uncompressed AIFF."),
        };
        var blockAlign = bytesPerSample * channels;
        frames = Math.Min(frames, data.Length / blockAlign);
        if (frames == 0) throw new MediaRefusal("the AIFF file holds no samples.");
        if (frames > PcmAudio.MaxFrames(limits, sampleRate)) throw PcmAudio.TooLong("audio/aiff", limits);

        var scale = 1.0 / (1L << (bytesPerSample * 8 - 1));
        var mono = new float[frames];
        for (var i = 0; i < frames; i++)
        {
            var sum = 0.0;
            for (var c = 0; c < channels; c++)
            {
                var s = data.Slice(i * blockAlign + c * bytesPerSample, bytesPerSample);
                sum += kind switch
                {
                    'f' => BinaryPrimitives.ReadSingleBigEndian(s),
                    'd' => BinaryPrimitives.ReadDoubleBigEndian(s),
                    _ => Integer(s, kind == 'l') * scale,
                };
            }
            mono[i] = WavDecoding.Clamp(sum / channels);
        }
        return new PcmAudio(mono, sampleRate);
    }

    /// <summary>A signed integer of 1 to 4 bytes, in either byte order.</summary>
    private static long Integer(ReadOnlySpan<byte> s, bool littleEndian)
    {
        long value = 0;
        for (var i = 0; i < s.Length; i++) value = value << 8 | s[littleEndian ? s.Length - 1 - i : i];
        var shift = 64 - s.Length * 8;
        return value << shift >> shift;
    }

    /// <summary>An IEEE 754 80-bit extended number (the sample rate's encoding in AIFF).</summary>
    private static double Extended(ReadOnlySpan<byte> b)
    {
        var exponent = ((b[0] & 0x7F) << 8 | b[1]) - 16383;
        var mantissa = BinaryPrimitives.ReadUInt64BigEndian(b[2..]);
        if (mantissa == 0 && exponent == -16383) return 0;
        var value = mantissa * Math.Pow(2, exponent - 63);
        return (b[0] & 0x80) != 0 ? -value : value;
    }
}
