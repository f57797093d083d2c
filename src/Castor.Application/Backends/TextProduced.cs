namespace Castor.Application.Backends;

/// <summary>Newly generated text of one candidate (a token's worth, or less while a UTF-8 character is incomplete).</summary>
public sealed record TextProduced(int Candidate, string Text) : BackendEvent;
