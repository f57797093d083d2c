using Castor.Engine.Grammars;
using System.Runtime.CompilerServices;
using LLama.Native;

namespace Castor.Engine.Sampling;

/// <summary>
/// Builds llama.cpp sampler chains in the order the Gemini API documents: penalties, then top-k, then top-p,
/// then temperature, then a seeded draw. Penalties see only tokens passed to <c>Accept</c>, and the scheduler
/// accepts generated tokens only, so presence/frequency penalties count the response, as the API defines them.
/// A grammar is kept beside the chain (<see cref="TokenSampler"/>), not in it.
/// </summary>
public static class SamplerChain
{
    /// <param name="penaltyWindow">Tokens the penalties look back over: the whole response (llama.cpp turns -1 into 0, which disables them).</param>
    public static TokenSampler Create(SamplingParameters p, int penaltyWindow, SafeLlamaModelHandle model, GrammarConstraint? grammar = null)
    {
        SafeLLamaSamplerChainHandle? grammarChain = null;
        if (grammar is not null)
        {
            GrammarValidator.Validate(model, grammar.Gbnf, grammar.Root);
            grammarChain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
            try
            {
                if (grammar.IsLazy)
                    GrammarValidator.AddLazy(grammarChain, model, grammar.Gbnf, grammar.Root, grammar.TriggerPatterns!);
                else
                    grammarChain.AddGrammar(model.Vocab, grammar.Gbnf, grammar.Root);
            }
            catch
            {
                grammarChain.Dispose();
                throw;
            }
        }

        var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        if (grammarChain is not null && UnwritableTokens(model) is { Length: > 0 } banned)
            chain.AddLogitBias(model.Vocab.Count, banned);
        if (p.PresencePenalty != 0 || p.FrequencyPenalty != 0)
            chain.AddPenalties(Math.Max(1, penaltyWindow), 1.0f, p.FrequencyPenalty, p.PresencePenalty);
        if (p.Temperature <= 0)
        {
            chain.AddGreedySampler();
        }
        else
        {
            if (p.TopK > 0)
                chain.AddTopK(p.TopK);
            if (p.TopP is > 0 and < 1)
                chain.AddTopP(p.TopP, 1);
            chain.AddTemperature(p.Temperature);
            chain.AddDistributionSampler(p.Seed);
        }
        return new TokenSampler(chain, grammarChain, model.Vocab.Count);
    }

    private static readonly ConditionalWeakTable<SafeLlamaModelHandle, LLamaLogitBias[]> Unwritable = new();

    /// <summary>
    /// Tokens a grammar must never be allowed to pick: BOS (the scheduler ends a sequence on it) and every other control
    /// token that does not end generation. llama.cpp's grammar matches a control token by its literal text ("&lt;s&gt;"),
    /// but the response renders it as nothing (or stops), so the text would no longer follow the grammar.
    /// </summary>
    private static LLamaLogitBias[] UnwritableTokens(SafeLlamaModelHandle model) => Unwritable.GetValue(model, m =>
    {
        var vocab = m.Vocab;
        var banned = new List<LLamaLogitBias>();
        for (var id = 0; id < vocab.Count; id++)
        {
            var token = (LLamaToken)id;
            if (token == vocab.BOS || (token.IsControl(vocab) && !token.IsEndOfGeneration(vocab)))
                banned.Add(new LLamaLogitBias { Token = token, Bias = float.NegativeInfinity });
        }
        return banned.ToArray();
    });
}
