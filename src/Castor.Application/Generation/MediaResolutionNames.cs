using Castor.Application.Errors;

namespace Castor.Application.Generation;

/// <summary>The Gemini API's names for <see cref="MediaResolution"/> (<c>MEDIA_RESOLUTION_LOW</c> …).</summary>
public static class MediaResolutionNames
{
    /// <summary>
    /// The level a name stands for; null for unset (null, empty or <c>MEDIA_RESOLUTION_UNSPECIFIED</c>).
    /// <c>MEDIA_RESOLUTION_ULTRA_HIGH</c> is a per-part level only.
    /// </summary>
    /// <param name="name">The name as sent.</param>
    /// <param name="field">Where it was sent, for the error when it names no level.</param>
    /// <param name="perPart">Whether the per-part levels (ULTRA_HIGH) are allowed.</param>
    public static MediaResolution? Parse(string? name, FieldPath field, bool perPart = false) => name switch
    {
        null or "" or "MEDIA_RESOLUTION_UNSPECIFIED" => null,
        "MEDIA_RESOLUTION_LOW" => MediaResolution.Low,
        "MEDIA_RESOLUTION_MEDIUM" => MediaResolution.Medium,
        "MEDIA_RESOLUTION_HIGH" => MediaResolution.High,
        "MEDIA_RESOLUTION_ULTRA_HIGH" when perPart => MediaResolution.UltraHigh,
        _ => throw CastorException.InvalidField(field,
            $"'{name}' is not a media resolution; use MEDIA_RESOLUTION_LOW, MEDIA_RESOLUTION_MEDIUM, MEDIA_RESOLUTION_HIGH" +
            (perPart ? ", MEDIA_RESOLUTION_ULTRA_HIGH" : "") + " or MEDIA_RESOLUTION_UNSPECIFIED."),
    };
}
