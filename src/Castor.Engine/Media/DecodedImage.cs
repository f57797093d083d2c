namespace Castor.Engine.Media;

/// <summary>An image as 8-bit RGB rows, top to bottom, <c>Width * Height * 3</c> bytes, no padding.</summary>
public sealed record DecodedImage(string MimeType, byte[] ContentHash, int Width, int Height, byte[] Rgb)
    : DecodedMedia(MimeType, ContentHash);
