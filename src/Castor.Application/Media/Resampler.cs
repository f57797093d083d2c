namespace Castor.Application.Media;

/// <summary>
/// Band-limited resampling (windowed sinc, Blackman window, 10 zero crossings each side) from a file's rate to the
/// projector's. Downsampling moves the cutoff to the new Nyquist frequency so that nothing above it folds back as
/// aliasing; 48 kHz speech at 16 kHz keeps its 0–7.6 kHz band. The kernel is tabulated once per rate pair.
/// </summary>
internal static class Resampler
{
    private const int ZeroCrossings = 10;
    private const int Phases = 512;

    public static float[] Resample(float[] input, int fromRate, int toRate, CancellationToken cancellationToken = default)
    {
        if (fromRate == toRate || input.Length == 0) return input;
        var ratio = (double)toRate / fromRate;
        // Slightly under Nyquist, so the transition band lies below it.
        var cutoff = Math.Min(1.0, ratio) * 0.96;
        var halfWidth = ZeroCrossings / cutoff; // in input samples
        var table = Kernel(cutoff, halfWidth);
        var outputLength = (long)Math.Floor(input.Length * ratio);
        var output = new float[Math.Max(1, outputLength)];
        var step = 1.0 / ratio;
        var tableScale = Phases * ZeroCrossings / halfWidth;
        for (long i = 0; i < output.Length; i++)
        {
            if ((i & 0xFFFF) == 0) cancellationToken.ThrowIfCancellationRequested();
            var t = i * step;
            var first = (long)Math.Ceiling(t - halfWidth);
            var last = (long)Math.Floor(t + halfWidth);
            var sum = 0.0;
            for (var j = Math.Max(0, first); j <= Math.Min(input.Length - 1, last); j++)
            {
                var position = Math.Abs(t - j) * tableScale;
                var index = (int)position;
                if (index >= table.Length - 1) continue;
                var fraction = position - index;
                sum += input[j] * (table[index] + (table[index + 1] - table[index]) * fraction);
            }
            output[i] = WavDecoding.Clamp(sum);
        }
        return output;
    }

    /// <summary>The kernel's right half, <see cref="Phases"/> values per zero crossing, at <c>|t - j|</c> distances.</summary>
    private static double[] Kernel(double cutoff, double halfWidth)
    {
        var table = new double[Phases * ZeroCrossings + 2];
        for (var k = 0; k < table.Length; k++)
        {
            var distance = k * halfWidth / (Phases * ZeroCrossings); // input samples
            var x = distance / halfWidth;
            if (x >= 1) continue;
            var window = 0.42 + 0.5 * Math.Cos(Math.PI * x) + 0.08 * Math.Cos(2 * Math.PI * x);
            var arg = Math.PI * cutoff * distance;
            var sinc = distance == 0 ? 1.0 : Math.Sin(arg) / arg;
            table[k] = cutoff * sinc * window;
        }
        return table;
    }
}
