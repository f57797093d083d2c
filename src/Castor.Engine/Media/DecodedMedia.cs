namespace Castor.Engine.Media;

/// <summary>
/// A media item decoded and validated in managed code, in the form a projector takes: the engine never sees the
/// original file bytes, so a corrupt or hostile file is refused before native code reads anything.
/// <see cref="ContentHash"/> identifies the item for prefix reuse (SHA-256 of the decoded samples or pixels, so the
/// same picture sent as PNG or as an uploaded file is one item).
/// </summary>
public abstract record DecodedMedia(string MimeType, byte[] ContentHash);
