using Castor.Engine.Scheduling;
using Microsoft.Extensions.Logging;

namespace Castor.Engine.Embedding;

/// <summary>
/// An embedding model ready to serve: what it is (<see cref="Info"/>), its tokenizer, and the batcher that computes
/// its vectors. Vectors come back pooled and unnormalized; normalizing and truncating them are the API's rules.
/// </summary>
public sealed class EmbeddingModel : IDisposable
{
    private readonly IEmbeddingBackend _backend;
    private readonly EmbeddingBatcher _batcher;

    public EmbeddingModel(EmbeddingModelInfo info, IEmbeddingBackend backend, int maxQueue, ILogger logger)
    {
        Info = info;
        _backend = backend;
        _batcher = new EmbeddingBatcher(info.Id, backend, maxQueue, logger);
    }

    public EmbeddingModelInfo Info { get; }
    public string Id => Info.Id;

    /// <summary>Compute runs since start (one ONNX run or one llama decode each).</summary>
    public long Runs => _batcher.Runs;
    public long TextsEmbedded => _batcher.TextsEmbedded;

    /// <summary>Tokenizes on the caller's thread, cutting the text to <see cref="EmbeddingModelInfo.MaxTokens"/>.</summary>
    public TokenizedText Tokenize(string text) => _backend.Tokenize(text, Info.MaxTokens);

    /// <summary>
    /// One pooled vector per text, in order, computed together. Throws <see cref="EngineOverloadedException"/> at once
    /// when too many requests are waiting for this model.
    /// </summary>
    public Task<float[][]> EmbedAsync(IReadOnlyList<TokenizedText> texts, CancellationToken cancellationToken) =>
        _batcher.SubmitAsync(texts, cancellationToken);

    public void Dispose()
    {
        _batcher.Dispose();
        _backend.Dispose();
    }
}
