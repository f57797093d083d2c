namespace Castor.Engine.Media;

/// <summary>
/// The API's <c>mediaResolution</c>: how many tokens an image may cost. Projectors with a dynamic resolution map it to
/// their most image tokens (<see cref="MediaProjector.MaxImageTokens"/>); fixed-size projectors encode every image the
/// same way whatever it says.
/// </summary>
public enum MediaResolution
{
    Unspecified,
    Low,
    Medium,
    High,
    UltraHigh,
}
