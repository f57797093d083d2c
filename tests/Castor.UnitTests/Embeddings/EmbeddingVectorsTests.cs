using Castor.Application.Embeddings;

namespace Castor.UnitTests.Embeddings;

public sealed class EmbeddingVectorsTests
{
    private static double Norm(float[] v) => Math.Sqrt(v.Sum(x => (double)x * x));

    [Fact]
    public void The_full_vector_is_normalized_to_unit_length()
    {
        var v = EmbeddingVectors.Shape([3f, 4f, 0f, 12f], null);
        Assert.Equal(1.0, Norm(v), 6);
        Assert.Equal([3f / 13, 4f / 13, 0f, 12f / 13], v);
    }

    [Fact]
    public void A_truncated_vector_is_the_prefix_of_the_normalized_one_and_is_not_renormalized()
    {
        var full = EmbeddingVectors.Shape([3f, 4f, 0f, 12f], null);
        var cut = EmbeddingVectors.Shape([3f, 4f, 0f, 12f], 2);
        Assert.Equal(full[..2], cut);
        Assert.True(Norm(cut) < 0.5);
    }

    [Fact]
    public void Asking_for_the_full_size_or_more_returns_the_whole_vector()
    {
        Assert.Equal(4, EmbeddingVectors.Shape([1f, 2f, 3f, 4f], 4).Length);
        Assert.Equal(4, EmbeddingVectors.Shape([1f, 2f, 3f, 4f], 10).Length);
    }

    [Fact]
    public void A_zero_vector_stays_zero_instead_of_becoming_nan()
    {
        Assert.Equal([0f, 0f, 0f], EmbeddingVectors.Normalize([0f, 0f, 0f]));
    }

    [Fact]
    public void A_non_finite_value_is_an_error_not_an_answer()
    {
        Assert.Throws<InvalidOperationException>(() => EmbeddingVectors.Normalize([1f, float.NaN]));
        Assert.Throws<InvalidOperationException>(() => EmbeddingVectors.Normalize([float.PositiveInfinity, 1f]));
    }

    [Fact]
    public void Normalizing_is_deterministic()
    {
        float[] raw = [0.1f, -0.7f, 2.5f, 1e-3f, -3.3f];
        Assert.Equal(EmbeddingVectors.Shape(raw, 3), EmbeddingVectors.Shape(raw, 3));
    }
}
