namespace Castor.Application.Media;

/// <summary>
/// Which media a model can take: a vision projector reads images, an audio projector reads audio at
/// <see cref="AudioSampleRate"/> (Whisper-based projectors: 16 kHz). A text-only model takes <see cref="None"/>.
/// </summary>
public sealed record MediaSupport(bool Images, bool Audio, int AudioSampleRate = MediaSupport.DefaultAudioSampleRate)
{
    /// <summary>The rate every shipped audio projector takes (Whisper's).</summary>
    public const int DefaultAudioSampleRate = 16_000;

    public static MediaSupport None { get; } = new(false, false);

    public bool Accepts(MediaKind kind) => kind == MediaKind.Image ? Images : Audio;
}
