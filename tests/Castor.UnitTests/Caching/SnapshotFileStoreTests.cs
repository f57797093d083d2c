using Castor.Storage.Caches;

namespace Castor.UnitTests.Caching;

/// <summary>Snapshot files: written whole or not at all, and never trusted when damaged.</summary>
public sealed class SnapshotFileStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "castor-snapshots-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task A_written_snapshot_reads_back_with_its_identity_tokens_and_state()
    {
        var store = new SnapshotFileStore(_root);
        var state = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        var written = await store.WriteAsync("p1", "abc", "gguf=x;ctx=2048", [1, 2, 3], state);
        var file = await store.ReadAsync("p1", "abc");
        Assert.NotNull(file);
        Assert.Equal("gguf=x;ctx=2048", file!.Identity);
        Assert.Equal([1, 2, 3], file.Tokens);
        Assert.Equal(state, file.State);
        Assert.Equal(written, new FileInfo(store.PathOf("p1", "abc")).Length);
        Assert.DoesNotContain(store.Enumerate(), f => f.Temporary);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(40)]
    public async Task A_damaged_or_truncated_file_reads_as_missing(int at)
    {
        var store = new SnapshotFileStore(_root);
        await store.WriteAsync("p1", "abc", "id", [7, 8], new byte[1000]);
        var path = store.PathOf("p1", "abc");
        var bytes = await File.ReadAllBytesAsync(path);
        if (at < 0)
            bytes = bytes[..^10];
        else
            bytes[at] ^= 0xFF;
        await File.WriteAllBytesAsync(path, bytes);
        Assert.Null(await store.ReadAsync("p1", "abc"));
    }

    [Fact]
    public async Task A_crash_mid_write_leaves_only_a_temporary_file_that_no_read_trusts()
    {
        var store = new SnapshotFileStore(_root);
        await store.WriteAsync("p1", "abc", "id", [1], new byte[100]);
        // What a write killed before its rename leaves: a partial temporary file beside the real one.
        var temp = store.PathOf("p1", "abc") + ".0123456789abcdef0123456789abcdef.tmp";
        await File.WriteAllBytesAsync(temp, new byte[17]);
        var file = await store.ReadAsync("p1", "abc");
        Assert.Equal(new byte[100], file!.State);
        Assert.Contains(store.Enumerate(), f => f.Temporary && f.Path == temp);
        Assert.Null(await store.ReadAsync("p1", "missing"));
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
