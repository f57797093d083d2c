namespace Castor.Storage.Batches;

/// <summary>A job's progress: requests by state and the tokens its finished requests used.</summary>
public sealed record BatchCounts(long Succeeded, long Failed, long Pending, long PromptTokens, long OutputTokens);
