namespace Castor.Application.Backends;

/// <summary>
/// The text that opens and closes a thinking model's thoughts. <see cref="StartsInThought"/>: the chat template opens a
/// thought itself (DeepSeek-R1 style), so output starts inside one.
/// </summary>
public sealed record ThoughtMarkers(string Start, string End, bool StartsInThought = false);
