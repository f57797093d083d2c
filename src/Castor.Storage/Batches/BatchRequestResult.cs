namespace Castor.Storage.Batches;

/// <summary>A finished request: its response or error (JSON in the job's dialect) and the tokens it used.</summary>
public sealed record BatchRequestResult(bool Succeeded, string Json, long PromptTokens, long OutputTokens);
