using LLama.Native;

namespace Castor.Engine.Sampling;

/// <summary>
/// Draws one sequence's tokens. Without a grammar it is llama.cpp's sampler chain. With one it samples the way
/// llama.cpp's own server does: the chain picks a token first, and only when the grammar refuses that token is the
/// whole vocabulary filtered by the grammar and the draw repeated. Checking one token is far cheaper than checking
/// every token, and most draws already fit (measured in bench/: the grammar's cost per token).
/// </summary>
public sealed class TokenSampler : IDisposable
{
    private readonly SafeLLamaSamplerChainHandle _chain;
    private readonly SafeLLamaSamplerChainHandle? _grammar;
    private readonly LLamaTokenData[] _candidates;
    private readonly LLamaTokenData[] _single = new LLamaTokenData[1];

    internal TokenSampler(SafeLLamaSamplerChainHandle chain, SafeLLamaSamplerChainHandle? grammar, int vocabularySize)
    {
        _chain = chain;
        _grammar = grammar;
        _candidates = grammar is null ? [] : new LLamaTokenData[vocabularySize];
    }

    /// <summary>How many times the grammar refused the chain's first draw and the vocabulary was filtered (diagnostics, the bench).</summary>
    public int Refusals { get; private set; }

    /// <summary>Draws the next token from the logits at <paramref name="index"/> and records it (penalties, grammar).</summary>
    public LLamaToken Sample(SafeLLamaContextHandle context, int index)
    {
        // llama_sampler_sample also accepts the token into the chain.
        if (_grammar is null) return _chain.Sample(context, index);

        var logits = context.GetLogitsIth(index);
        var token = Draw(logits, grammarFirst: false);
        if (!GrammarAllows(token))
        {
            Refusals++;
            token = Draw(logits, grammarFirst: true);
        }
        Accept(token);
        return token;
    }

    /// <summary>Records a token chosen elsewhere (a forced end-of-thought marker).</summary>
    public void Accept(LLamaToken token)
    {
        _chain.Accept(token);
        _grammar?.Accept(token);
    }

    private LLamaToken Draw(Span<float> logits, bool grammarFirst)
    {
        var array = LLamaTokenDataArray.Create(logits, _candidates);
        using var pin = LLamaTokenDataArrayNative.Create(array, out var native);
        if (grammarFirst) _grammar!.Apply(ref native);
        _chain.Apply(ref native);
        return native.Data[checked((int)native.Selected)].ID;
    }

    private bool GrammarAllows(LLamaToken token)
    {
        _single[0] = new LLamaTokenData(token, 1f, 0f);
        using var pin = LLamaTokenDataArrayNative.Create(new LLamaTokenDataArray(_single), out var native);
        _grammar!.Apply(ref native);
        return !float.IsNegativeInfinity(native.Data[0].Logit);
    }

    public void Dispose()
    {
        _chain.Dispose();
        _grammar?.Dispose();
    }
}
