namespace Castor.Application.Media;

/// <summary>What a media part is, as far as a model's projector is concerned.</summary>
public enum MediaKind
{
    Image,
    Audio,
}
