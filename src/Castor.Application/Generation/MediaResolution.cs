namespace Castor.Application.Generation;

/// <summary>
/// <c>mediaResolution</c>: how many tokens an image may become, per request (<c>generationConfig.mediaResolution</c>) or
/// per part (<c>parts[].mediaResolution.level</c>, which wins). Unset (null) is the projector's default. The engine maps
/// each level to the projector's minimum and maximum image tokens.
/// </summary>
public enum MediaResolution
{
    Low,
    Medium,
    High,

    /// <summary>Per part only (<c>MEDIA_RESOLUTION_ULTRA_HIGH</c>).</summary>
    UltraHigh,
}
