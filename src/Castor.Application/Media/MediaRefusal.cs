namespace Castor.Application.Media;

/// <summary>
/// Why a media file was refused, as the API user should read it (the decoder names the part); thrown inside the
/// decoders and turned into a 400 by <see cref="MediaDecoder"/>.
/// </summary>
internal sealed class MediaRefusal(string reason) : Exception(reason);
