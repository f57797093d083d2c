namespace Castor.Application.Backends;

/// <summary>
/// How a thinking model may think in one request: tokens between the markers count as thoughts, and once
/// <see cref="Budget"/> of them were generated (0 = none, -1 = unlimited) the end marker is forced.
/// </summary>
public sealed record ThinkingPlan(IReadOnlyList<int> StartTokens, IReadOnlyList<int> EndTokens, int Budget, bool StartsInThought);
