namespace Castor.Engine.Media;

/// <summary>
/// A media item inside a chat message's text: it sits at <see cref="Offset"/> (a UTF-16 index into the message text),
/// encoded at <see cref="Resolution"/>.
/// </summary>
public sealed record PromptMedia(int Offset, DecodedMedia Media, MediaResolution Resolution = MediaResolution.Unspecified);
