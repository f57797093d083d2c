namespace Castor.Engine.Media;

/// <summary>
/// What one media item becomes in a prompt, whatever text surrounds it: the text tokens its projector puts around and
/// between its chunks (<c>&lt;start_of_image&gt;</c>, <c>&lt;|vision_start|&gt;</c>, …) and each media chunk's token and
/// position counts. It is all a prompt's tokenization and prefix match need, so an item seen before is laid out again
/// without mtmd preprocessing its pixels or samples (see <see cref="MediaLayoutCache"/>).
/// </summary>
internal sealed record MediaLayout(IReadOnlyList<MediaLayout.Entry> Entries)
{
    /// <summary>Text tokens (<see cref="Text"/> set) or one media chunk of <see cref="Tokens"/> embeddings over <see cref="Positions"/> positions.</summary>
    public readonly record struct Entry(int[]? Text, int Tokens, int Positions);

    /// <summary>The media chunks the item has (long audio has several).</summary>
    public int MediaChunks => Entries.Count(e => e.Text is null);
}
