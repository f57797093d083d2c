using Castor.Application.Generation;

namespace Castor.Application.Backends;

/// <summary>Log probabilities of one answer token, sent before its text when asked for. Thought and forced tokens have none.</summary>
public sealed record LogprobsProduced(int Candidate, TokenLogprob Chosen, IReadOnlyList<TokenLogprob> Top) : BackendEvent;
