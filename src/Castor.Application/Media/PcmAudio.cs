namespace Castor.Application.Media;

/// <summary>Decoded audio before resampling: mono samples in [-1, 1] at the file's own rate.</summary>
internal readonly record struct PcmAudio(float[] Samples, int SampleRate)
{
    /// <summary>How many frames of <paramref name="sampleRate"/> fit in <see cref="MediaLimits.MaxAudioSeconds"/>.</summary>
    public static long MaxFrames(MediaLimits limits, int sampleRate) => (long)Math.Ceiling(limits.MaxAudioSeconds * sampleRate);

    public static MediaRefusal TooLong(string format, MediaLimits limits) =>
        new($"the {format} audio is longer than {limits.MaxAudioSeconds:0.###} seconds, the most one part may hold.");

    /// <summary>Averages interleaved channels into one (the API, too, combines channels into a single channel).</summary>
    public static float[] Mixdown(ReadOnlySpan<float> interleaved, int channels)
    {
        if (channels == 1) return interleaved.ToArray();
        var frames = interleaved.Length / channels;
        var mono = new float[frames];
        for (var i = 0; i < frames; i++)
        {
            var sum = 0f;
            for (var c = 0; c < channels; c++) sum += interleaved[i * channels + c];
            mono[i] = sum / channels;
        }
        return mono;
    }
}
