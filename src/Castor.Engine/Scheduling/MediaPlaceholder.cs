namespace Castor.Engine.Scheduling;

/// <summary>
/// A media item (an image, an audio clip) inside a prompt: <see cref="Length"/> KV positions that its encoder's
/// embeddings fill. <see cref="Hash"/> identifies the content (a hash of its bytes and the encoder settings), so a
/// resident copy of the same item is reused as a whole by prefix matching, and never in part: a half-evaluated
/// image is not a prefix of anything.
/// </summary>
public sealed record MediaPlaceholder(string MimeType, ulong Hash, int Positions) : PromptChunk
{
    public override int Length => Positions;
}
