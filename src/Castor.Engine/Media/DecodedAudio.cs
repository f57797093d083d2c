namespace Castor.Engine.Media;

/// <summary>
/// An audio clip as mono 32-bit float samples in [-1, 1] at <see cref="SampleRate"/> (the projector's rate: the
/// decoder resamples, the engine does not).
/// </summary>
public sealed record DecodedAudio(string MimeType, byte[] ContentHash, float[] Samples, int SampleRate)
    : DecodedMedia(MimeType, ContentHash)
{
    public TimeSpan Duration => TimeSpan.FromSeconds((double)Samples.Length / SampleRate);
}
