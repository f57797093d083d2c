using Castor.Engine.Grammars;
using LLama.Native;

namespace Castor.Engine.Sampling;

/// <summary>
/// Builds llama.cpp sampler chains in the order the Gemini API documents: penalties, then top-k, then top-p,
/// then temperature, then a seeded draw. Penalties see only tokens passed to <c>Accept</c>, and the scheduler
/// accepts generated tokens only, so presence/frequency penalties count the response, as the API defines them.
/// </summary>
public static class SamplerChain
{

    /// <param name="penaltyWindow">Tokens the penalties look back over: the whole response (llama.cpp turns -1 into 0, which disables them).</param>
    /// <remarks>A grammar goes first, so every later step only sees tokens the grammar allows.</remarks>
    public static SafeLLamaSamplerChainHandle Create(SamplingParameters p, int penaltyWindow, SafeLlamaModelHandle model, GrammarConstraint? grammar = null)
    {
        if (grammar is not null)
            GrammarValidator.Validate(model, grammar.Gbnf, grammar.Root);
        var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        try
        {
            if (grammar is { IsLazy: true })
                GrammarValidator.AddLazy(chain, model, grammar.Gbnf, grammar.Root, grammar.TriggerPatterns!);
            else if (grammar is not null)
                chain.AddGrammar(model.Vocab, grammar.Gbnf, grammar.Root);
        }
        catch
        {
            chain.Dispose();
            throw;
        }
        if (p.PresencePenalty != 0 || p.FrequencyPenalty != 0)
            chain.AddPenalties(Math.Max(1, penaltyWindow), 1.0f, p.FrequencyPenalty, p.PresencePenalty);

        if (p.Temperature <= 0)
        {
            chain.AddGreedySampler();
            return chain;
        }

        if (p.TopK > 0)
            chain.AddTopK(p.TopK);
        if (p.TopP is > 0 and < 1)
            chain.AddTopP(p.TopP, 1);
        chain.AddTemperature(p.Temperature);
        chain.AddDistributionSampler(p.Seed);
        return chain;
    }
}
