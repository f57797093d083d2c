using Castor.Application.Errors;
using Castor.Engine.Media;

namespace Castor.Application.Media;

/// <summary>
/// Turns an image or audio file's bytes into the form a projector takes (<see cref="DecodedImage"/>: RGB rows;
/// <see cref="DecodedAudio"/>: mono float at the projector's rate), validating them first: a type the API does not
/// accept, bytes that are not of the type they are labelled with, a corrupt or truncated file, or one past
/// <see cref="MediaLimits"/> is refused with <see cref="CastorException.InvalidField(FieldPath, string)"/> naming
/// the part's field, and nothing else escapes (cancellation aside).
/// </summary>
public interface IMediaDecoder
{
    /// <summary>
    /// Decodes <paramref name="data"/> labelled <paramref name="mimeType"/>; audio is resampled to
    /// <paramref name="audioSampleRate"/>. <see cref="DecodedMedia.ContentHash"/> is the SHA-256 of what was decoded.
    /// </summary>
    Task<DecodedMedia> DecodeAsync(string mimeType, ReadOnlyMemory<byte> data, MediaLimits limits, int audioSampleRate, FieldPath field,
        CancellationToken cancellationToken);
}
