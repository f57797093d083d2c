namespace Castor.Application.Backends;

/// <summary>One candidate ended; counts are final (<see cref="OutputTokens"/> includes <see cref="ThoughtTokens"/>).</summary>
public sealed record CandidateFinished(int Candidate, FinishCause Cause, int OutputTokens, int ThoughtTokens = 0) : BackendEvent;
