using LLama.Native;

namespace Castor.Engine.Sampling;

/// <summary>
/// Draws one sequence's tokens. Without a grammar it is llama.cpp's sampler chain. With one it samples the way
/// llama.cpp's own server does, and then a step cheaper: the chain picks a token first, and the grammar checks that one
/// token. When the grammar refuses it, the grammar filters only the candidates the chain had kept (its top-k/top-p cut,
/// at most top-k tokens) and the chain draws again among the allowed ones; only when none of them is allowed is the
/// whole vocabulary filtered and the draw repeated. Every token returned has passed the grammar. Checking one token,
/// or a few dozen, is far cheaper than checking every token of a large vocabulary (measured in bench/ (d)).
/// </summary>
/// <remarks>
/// Drawing again among the allowed survivors of the chain's cut comes close to the chain's own distribution restricted
/// to the grammar, as if it drew until the grammar agreed (close: top-p cuts again over the allowed ones). llama.cpp's
/// server instead draws again from the whole vocabulary filtered, so a refusal can reach tokens the model ranked below
/// the cut; here that happens only when the cut holds no allowed token at all.
/// </remarks>
public sealed class TokenSampler : IDisposable
{
    private readonly SafeLLamaSamplerChainHandle _chain;
    private readonly SafeLLamaSamplerChainHandle? _grammar;
    private readonly LLamaTokenData[] _candidates;
    private readonly LLamaTokenData[] _survivors;
    private readonly LLamaTokenData[] _single = new LLamaTokenData[1];

    internal TokenSampler(SafeLLamaSamplerChainHandle chain, SafeLLamaSamplerChainHandle? grammar, int vocabularySize)
    {
        _chain = chain;
        _grammar = grammar;
        _candidates = grammar is null ? [] : new LLamaTokenData[vocabularySize];
        _survivors = grammar is null ? [] : new LLamaTokenData[vocabularySize];
    }

    /// <summary>How many times the grammar refused the chain's first draw (diagnostics, the bench).</summary>
    public int Refusals { get; private set; }

    /// <summary>How many of those refusals needed the whole vocabulary filtered (no allowed token in the chain's cut).</summary>
    public int FullFilters { get; private set; }

    /// <summary>True when a grammar constrains the draw (its work can be slow, so the scheduler runs it off its thread).</summary>
    public bool HasGrammar => _grammar is not null;

    /// <summary>Draws the next token from the logits at <paramref name="index"/> and records it (penalties, grammar).</summary>
    public LLamaToken Sample(SafeLLamaContextHandle context, int index)
    {
        // llama_sampler_sample also accepts the token into the chain.
        if (_grammar is null) return _chain.Sample(context, index);
        return Sample(context.GetLogitsIth(index));
    }

    /// <summary>
    /// Draws the next token from a copy of one position's logits and records it; needs a grammar. Touches no llama
    /// context, so it may run on another thread while the context decodes.
    /// </summary>
    public LLamaToken Sample(Span<float> logits)
    {
        if (_grammar is null) throw new InvalidOperationException("Drawing from copied logits is for grammar-constrained sequences.");
        var token = DrawAll(logits, out var kept);
        if (!GrammarAllows(token))
        {
            Refusals++;
            if (kept >= _candidates.Length || !TryDrawAllowedSurvivor(kept, out token))
            {
                FullFilters++;
                token = DrawAll(logits, out _, grammarFirst: true);
            }
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

    /// <summary>
    /// The chain over the whole vocabulary (grammar-filtered first if asked). Without the grammar first, the candidates
    /// the chain kept (its cut) go to <c>_survivors</c> with their original logits, and <paramref name="kept"/> says how
    /// many: the vocabulary's size when the chain cut nothing (greedy), and then they are not copied.
    /// </summary>
    private LLamaToken DrawAll(Span<float> logits, out int kept, bool grammarFirst = false)
    {
        var array = LLamaTokenDataArray.Create(logits, _candidates);
        using var pin = LLamaTokenDataArrayNative.Create(array, out var native);
        if (grammarFirst) _grammar!.Apply(ref native);
        _chain.Apply(ref native);
        var data = native.Data;
        kept = data.Length;
        if (!grammarFirst && kept < _survivors.Length)
        {
            // The chain's samplers (temperature) changed the logits they kept: the draw among survivors starts afresh.
            for (var i = 0; i < kept; i++)
            {
                var id = data[i].ID;
                _survivors[i] = new LLamaTokenData(id, logits[(int)id], 0f);
            }
        }
        return data[checked((int)native.Selected)].ID;
    }

    /// <summary>
    /// The grammar filters the chain's kept candidates, and the chain draws again among those it allows (from their
    /// original logits, so no sampler of the chain applies twice). False when it allows none of them.
    /// </summary>
    private bool TryDrawAllowedSurvivor(int kept, out LLamaToken token)
    {
        token = default;
        var allowed = 0;
        using (var pin = LLamaTokenDataArrayNative.Create(new LLamaTokenDataArray(_survivors.AsMemory(0, kept)), out var native))
        {
            _grammar!.Apply(ref native);
            var data = native.Data;
            for (var i = 0; i < data.Length; i++)
                if (!float.IsNegativeInfinity(data[i].Logit))
                    _survivors[allowed++] = data[i];
        }
        if (allowed == 0) return false;
        using (var pin = LLamaTokenDataArrayNative.Create(new LLamaTokenDataArray(_survivors.AsMemory(0, allowed)), out var native))
        {
            _chain.Apply(ref native);
            token = native.Data[checked((int)native.Selected)].ID;
        }
        return true;
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
