namespace Castor.Bench;

public static class Stats
{
    /// <summary>Percentile with linear interpolation between closest ranks (numpy's default); NaN for no samples.</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double p)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var rank = p / 100.0 * (sorted.Length - 1);
        var lo = (int)Math.Floor(rank);
        var hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    public static double Median(IReadOnlyCollection<double> values) => Percentile(values, 50);

    public static double Mean(IReadOnlyCollection<double> values)
    {
        var finite = values.Where(v => !double.IsNaN(v)).ToArray();
        return finite.Length == 0 ? double.NaN : finite.Average();
    }
}
