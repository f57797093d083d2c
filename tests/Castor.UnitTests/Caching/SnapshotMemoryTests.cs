using Castor.Application.Backends;
using Castor.Application.Caching;

namespace Castor.UnitTests.Caching;

public sealed class SnapshotMemoryTests
{
    private static KvSnapshot Snapshot(int bytes) => new("id", [], new byte[bytes]);

    [Fact]
    public void The_least_recently_used_snapshot_leaves_first_when_the_bound_is_reached()
    {
        var memory = new SnapshotMemory(maxBytes: 300);
        memory.Put("a", Snapshot(100));
        memory.Put("b", Snapshot(100));
        memory.Put("c", Snapshot(100));
        Assert.NotNull(memory.Get("a"));
        memory.Put("d", Snapshot(100));
        Assert.Null(memory.Get("b"));
        Assert.NotNull(memory.Get("a"));
        Assert.NotNull(memory.Get("c"));
        Assert.NotNull(memory.Get("d"));
        Assert.Equal(300, memory.Bytes);
    }

    [Fact]
    public void A_snapshot_larger_than_the_bound_is_not_kept_and_removing_frees_its_bytes()
    {
        var memory = new SnapshotMemory(maxBytes: 300);
        memory.Put("a", Snapshot(100));
        memory.Put("huge", Snapshot(301));
        Assert.Null(memory.Get("huge"));
        Assert.NotNull(memory.Get("a"));
        memory.Remove("a");
        Assert.Equal(0, memory.Bytes);
        Assert.Equal(0, memory.Count);
    }
}
