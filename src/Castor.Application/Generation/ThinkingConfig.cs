namespace Castor.Application.Generation;

/// <summary>generationConfig.thinkingConfig as sent; null means "not set".</summary>
public sealed record ThinkingConfig(int? ThinkingBudget, bool? IncludeThoughts, ThinkingLevel? ThinkingLevel);
