namespace Castor.Engine.Media;

/// <summary>What kind of media a prompt chunk holds, as the API counts tokens (<c>IMAGE</c>, <c>AUDIO</c>).</summary>
public enum MediaModality
{
    Image,
    Audio,
}
