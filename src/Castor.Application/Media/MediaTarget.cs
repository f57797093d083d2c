namespace Castor.Application.Media;

/// <summary>The model a request's media is for, and what it can read: asked only when a request carries media.</summary>
public sealed record MediaTarget(string ModelId, MediaSupport Support);
