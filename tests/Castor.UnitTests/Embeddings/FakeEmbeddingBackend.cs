using Castor.Engine.Embedding;

namespace Castor.UnitTests.Embeddings;

/// <summary>
/// A backend whose "tokens" are the text's characters and whose vector for a text is (length, sum of codes, 1, 0, …),
/// so tests can see what text the model was given, and how texts were grouped into runs.
/// </summary>
internal sealed class FakeEmbeddingBackend(int dimensions = 8, EmbeddingBatchLimits? limits = null) : IEmbeddingBackend
{
    private readonly Lock _lock = new();
    private readonly List<string> _texts = [];
    private readonly List<int> _runSizes = [];

    public EmbeddingBatchLimits Limits { get; } = limits ?? new EmbeddingBatchLimits(MaxSequences: 32, MaxTokens: 4096, Padded: true, BatchInvariant: true);

    /// <summary>Blocks every run until set; lets a test queue requests behind a run in progress.</summary>
    public ManualResetEventSlim Gate { get; } = new(initialState: true);
    public ManualResetEventSlim RunStarted { get; } = new();
    public Exception? FailWith { get; set; }

    public IReadOnlyList<string> Texts { get { lock (_lock) return [.. _texts]; } }
    public IReadOnlyList<int> RunSizes { get { lock (_lock) return [.. _runSizes]; } }

    public TokenizedText Tokenize(string text, int maxTokens)
    {
        lock (_lock) _texts.Add(text);
        var ids = text.Select(c => (int)c).ToArray();
        return ids.Length > maxTokens ? new TokenizedText(ids[..maxTokens], true) : new TokenizedText(ids, false);
    }

    public float[][] Compute(IReadOnlyList<int[]> sequences)
    {
        RunStarted.Set();
        Gate.Wait(TimeSpan.FromSeconds(30));
        if (FailWith is { } error) throw error;
        lock (_lock) _runSizes.Add(sequences.Count);
        return sequences.Select(s =>
        {
            var v = new float[dimensions];
            v[0] = s.Length;
            v[1] = s.Sum();
            v[2] = 1;
            return v;
        }).ToArray();
    }

    public void Dispose() => Gate.Dispose();
}
