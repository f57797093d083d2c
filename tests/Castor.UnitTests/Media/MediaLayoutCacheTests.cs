using Castor.Engine.Media;

namespace Castor.UnitTests.Media;

/// <summary>The projector's memory of media layouts stays bounded and forgets the least recently used first.</summary>
public class MediaLayoutCacheTests
{
    private static MediaLayout Layout(int tokens) => new([new MediaLayout.Entry(null, tokens, tokens)]);

    [Fact]
    public void It_holds_at_most_its_capacity_and_evicts_the_least_recently_used()
    {
        var cache = new MediaLayoutCache(capacity: 2);
        cache.Put("a", Layout(1));
        cache.Put("b", Layout(2));
        Assert.NotNull(cache.Get("a"));
        cache.Put("c", Layout(3));

        Assert.Equal(2, cache.Count);
        Assert.Null(cache.Get("b"));
        Assert.Equal(1, cache.Get("a")!.Entries[0].Tokens);
        Assert.Equal(3, cache.Get("c")!.Entries[0].Tokens);
    }

    [Fact]
    public void Putting_a_key_again_replaces_its_layout_without_growing()
    {
        var cache = new MediaLayoutCache(capacity: 2);
        cache.Put("a", Layout(1));
        cache.Put("a", Layout(5));

        Assert.Equal(1, cache.Count);
        Assert.Equal(5, cache.Get("a")!.Entries[0].Tokens);
        Assert.Equal(1, cache.Get("a")!.MediaChunks);
    }
}
