namespace Castor.Application.Embeddings;

/// <summary>
/// The API's output rules: the full vector is L2-normalized; an <c>outputDimensionality</c> below the model's size is
/// the normalized vector's prefix, left unnormalized, as the Gemini docs describe (clients normalize truncated vectors
/// themselves).
/// </summary>
public static class EmbeddingVectors
{
    /// <summary>The vector scaled to unit length; a zero vector stays zero rather than becoming NaN.</summary>
    public static float[] Normalize(ReadOnlySpan<float> vector)
    {
        double sum = 0;
        foreach (var x in vector)
        {
            if (!float.IsFinite(x)) throw new InvalidOperationException("The model produced a vector with a non-finite value.");
            sum += (double)x * x;
        }
        var result = vector.ToArray();
        if (sum == 0) return result;
        var scale = 1.0 / Math.Sqrt(sum);
        for (var i = 0; i < result.Length; i++) result[i] = (float)(result[i] * scale);
        return result;
    }

    /// <summary>Normalizes, then keeps the first <paramref name="dimensions"/> values (all of them when null).</summary>
    public static float[] Shape(ReadOnlySpan<float> pooled, int? dimensions)
    {
        var normalized = Normalize(pooled);
        return dimensions is { } d && d < normalized.Length ? normalized[..d] : normalized;
    }
}
