namespace Castor.Application.Backends;

/// <summary>The prompt has been processed; <see cref="ReusedTokens"/> of it came from KV already resident (an implicit cache hit).</summary>
public sealed record PromptEvaluated(int PromptTokens, int ReusedTokens) : BackendEvent;
