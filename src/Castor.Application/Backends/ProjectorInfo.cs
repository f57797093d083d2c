namespace Castor.Application.Backends;

/// <summary>
/// A model's multimodal projector and what it accepts: images (<see cref="Vision"/>), audio at
/// <see cref="AudioSampleRate"/>, and how its projector spends tokens (<see cref="ProjectorType"/>;
/// <see cref="DynamicResolution"/>: an image's tokens follow its size and mediaResolution bounds them).
/// </summary>
public sealed record ProjectorInfo(
    bool Vision,
    bool Audio,
    int AudioSampleRate,
    string ProjectorType,
    string ProjectorFile,
    bool DynamicResolution = false,
    bool MRope = false,
    bool NonCausal = false)
{
    /// <summary>One sentence for models.get's description and the banner, e.g. "Accepts text, images (projector mmproj.gguf, mlp).".</summary>
    public string Describe()
    {
        var kinds = (Vision, Audio) switch
        {
            (true, true) => "images and audio",
            (true, false) => "images",
            (false, true) => "audio",
            _ => "no media",
        };
        return $"Accepts text and {kinds} (projector {ProjectorFile}, {ProjectorType}).";
    }
}
