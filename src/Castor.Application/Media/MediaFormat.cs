namespace Castor.Application.Media;

/// <summary>The image and audio formats the Gemini API accepts, each named after its MIME type.</summary>
public enum MediaFormat
{
    Png,
    Jpeg,
    Webp,
    Heic,
    Heif,
    Wav,
    Mp3,
    Aiff,
    Aac,
    Ogg,
    Flac,
}
