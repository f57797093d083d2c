namespace Castor.Engine.Media;

/// <summary>
/// A media item inside a chat message's text: it sits at <see cref="Offset"/> (a UTF-16 index into the message text).
/// <see cref="MaxImageTokens"/>: the most tokens an image may become on a projector with a dynamic resolution (the
/// API's mediaResolution, mapped by the caller); null for the projector's own limit. Fixed-size projectors ignore it.
/// </summary>
public sealed record PromptMedia(int Offset, DecodedMedia Media, int? MaxImageTokens = null);
