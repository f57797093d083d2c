namespace Castor.Engine.Scheduling;

/// <summary>
/// Compares a prompt with what a sequence holds in the KV cache, position by position. Each position has a key: a text
/// token's key is its id (never negative); a media position's key is negative and mixes the item's hash with the
/// position's index inside it. A media item matches only whole: a common prefix that ends inside one is cut back to
/// where the item starts, since its positions were evaluated together by its encoder.
/// </summary>
public static class PrefixMatcher
{
    /// <summary>Every position's key, in order (computed once per request, at admission).</summary>
    public static long[] Keys(EnginePrompt prompt)
    {
        var keys = new long[prompt.Length];
        var at = 0;
        foreach (var chunk in prompt.Chunks)
        {
            switch (chunk)
            {
                case TokenRun run:
                    for (var i = 0; i < run.Tokens.Count; i++) keys[at + i] = run.Tokens[i];
                    break;
                case MediaPlaceholder media:
                    for (var i = 0; i < media.Positions; i++) keys[at + i] = MediaKey(media.Hash, i);
                    break;
                default:
                    throw new NotSupportedException($"Unknown prompt chunk {chunk.GetType().Name}.");
            }
            at += chunk.Length;
        }
        return keys;
    }

    /// <summary>The key of position <paramref name="index"/> of a media item: negative, so it never equals a token.</summary>
    public static long MediaKey(ulong hash, int index)
    {
        // SplitMix64 finaliser: neighbouring indexes of one item and equal indexes of two items land far apart.
        var z = hash + 0x9E3779B97F4A7C15UL * (ulong)(index + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return -1 - (long)(z >> 1);
    }

    /// <summary>
    /// How many leading positions of <paramref name="prompt"/> (whose keys are <paramref name="promptKeys"/>) are
    /// already held as <paramref name="resident"/>, media items counted whole or not at all.
    /// </summary>
    public static int CommonPrefix(ReadOnlySpan<long> resident, EnginePrompt prompt, ReadOnlySpan<long> promptKeys)
    {
        var length = resident.CommonPrefixLength(promptKeys);
        if (!prompt.HasMedia || length == 0) return length;
        var start = 0;
        foreach (var chunk in prompt.Chunks)
        {
            var end = start + chunk.Length;
            if (length < end)
                return chunk is MediaPlaceholder && length > start ? start : length;
            start = end;
        }
        return length;
    }
}
