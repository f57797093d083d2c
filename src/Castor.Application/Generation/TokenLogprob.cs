namespace Castor.Application.Generation;

/// <summary>One token with its log probability under the model (raw logits, before temperature and truncation).</summary>
public sealed record TokenLogprob(int TokenId, string Token, byte[] Bytes, float Logprob);
