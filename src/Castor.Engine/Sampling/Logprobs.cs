using System.Text;
using LLama.Native;

namespace Castor.Engine.Sampling;

/// <summary>One token with its log probability under the model (raw logits, before temperature and truncation).</summary>
public sealed record TokenLogprob(int TokenId, string Token, byte[] Bytes, float Logprob);

/// <summary>Log probabilities from one decoding step's logits: the chosen token and the most likely ones.</summary>
internal static class Logprobs
{
    /// <summary>Only the top 20 are asked for by either API; more would cost a sort per token for nothing.</summary>
    public const int MaxTop = 20;

    public static (TokenLogprob Chosen, TokenLogprob[] Top) Compute(ReadOnlySpan<float> logits, int chosen, int top, SafeLlamaModelHandle model)
    {
        top = Math.Clamp(top, 0, MaxTop);
        var max = float.NegativeInfinity;
        foreach (var l in logits) if (l > max) max = l;
        double sum = 0;
        foreach (var l in logits) sum += Math.Exp(l - max);
        var logZ = max + (float)Math.Log(sum);

        // The k largest logits, kept sorted descending in a small array (k ≤ 20, one pass over the vocabulary).
        var ids = new int[top];
        var values = new float[top];
        var count = 0;
        for (var i = 0; i < logits.Length && top > 0; i++)
        {
            var v = logits[i];
            if (count == top && v <= values[top - 1]) continue;
            var at = count < top ? count++ : top - 1;
            while (at > 0 && values[at - 1] < v)
            {
                values[at] = values[at - 1];
                ids[at] = ids[at - 1];
                at--;
            }
            values[at] = v;
            ids[at] = i;
        }

        var list = new TokenLogprob[count];
        for (var i = 0; i < count; i++) list[i] = Make(ids[i], values[i] - logZ, model);
        return (Make(chosen, logits[chosen] - logZ, model), list);
    }

    private static TokenLogprob Make(int id, float logprob, SafeLlamaModelHandle model)
    {
        Span<byte> buffer = stackalloc byte[128];
        var length = (int)model.TokenToSpan((LLamaToken)id, buffer, 0, false);
        byte[] bytes;
        if (length <= buffer.Length)
        {
            bytes = buffer[..Math.Max(0, length)].ToArray();
        }
        else
        {
            bytes = new byte[length];
            model.TokenToSpan((LLamaToken)id, bytes, 0, false);
        }
        return new TokenLogprob(id, Encoding.UTF8.GetString(bytes), bytes, logprob);
    }
}
