using System.Text;
using Castor.Api.Hosting;

namespace Castor.UnitTests.Streaming;

/// <summary>
/// While a stream waits for its first update the body gets line breaks, so idle-timeout clients (Gemini CLI: 300 s)
/// do not give up on a long prefill; once the update comes, its outcome is what the caller sees.
/// </summary>
public sealed class StreamKeepAliveTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);

    [Fact]
    public async Task Line_breaks_go_out_while_the_first_update_is_pending_and_stop_once_it_comes()
    {
        var firstUpdate = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var body = new MemoryStream();
        var waiting = StreamKeepAlive.AwaitAsync(new ValueTask<bool>(firstUpdate.Task), body, Tick, CancellationToken.None).AsTask();

        // Order, not time: the update is released only after two keep-alives were written.
        while (Length(body) < 4)
            await Task.Delay(Tick);
        Assert.False(waiting.IsCompleted);
        firstUpdate.SetResult(true);

        Assert.True(await waiting);
        var written = Encoding.ASCII.GetString(Snapshot(body));
        Assert.True(written.Length >= 4 && written.Length % 2 == 0, $"written: {written.Length} bytes");
        Assert.Equal(string.Concat(Enumerable.Repeat("\r\n", written.Length / 2)), written);

        // Nothing more is written after the update came.
        var after = Length(body);
        await Task.Delay(Tick * 5);
        Assert.Equal(after, Length(body));
    }

    [Fact]
    public async Task An_update_already_there_writes_nothing()
    {
        var body = new MemoryStream();
        Assert.False(await StreamKeepAlive.AwaitAsync(new ValueTask<bool>(false), body, Tick, CancellationToken.None));
        Assert.Equal(0, body.Length);
    }

    [Fact]
    public async Task A_failed_first_update_surfaces_its_own_exception()
    {
        var firstUpdate = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var body = new MemoryStream();
        var waiting = StreamKeepAlive.AwaitAsync(new ValueTask<bool>(firstUpdate.Task), body, Tick, CancellationToken.None).AsTask();
        while (Length(body) < 2)
            await Task.Delay(Tick);
        firstUpdate.SetException(new InvalidOperationException("prefill failed"));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => waiting);
        Assert.Equal("prefill failed", error.Message);
    }

    [Fact]
    public async Task A_client_that_went_away_stops_the_writes_and_the_pending_update_decides()
    {
        var firstUpdate = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var body = new ClosedAfterFirstWrite();
        var waiting = StreamKeepAlive.AwaitAsync(new ValueTask<bool>(firstUpdate.Task), body, Tick, CancellationToken.None).AsTask();
        while (body.Attempts < 2)
            await Task.Delay(Tick);
        var attempts = body.Attempts;
        await Task.Delay(Tick * 5);
        Assert.Equal(attempts, body.Attempts); // after the failed write, no more tries
        Assert.False(waiting.IsCompleted);
        firstUpdate.SetCanceled();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    private static long Length(MemoryStream body)
    {
        lock (body) return body.Length;
    }

    private static byte[] Snapshot(MemoryStream body)
    {
        lock (body) return body.ToArray();
    }

    /// <summary>Accepts one write, then fails like a connection the client closed.</summary>
    private sealed class ClosedAfterFirstWrite : MemoryStream
    {
        private int _attempts;
        public int Attempts => Volatile.Read(ref _attempts);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref _attempts) == 1 ? base.WriteAsync(buffer, cancellationToken) : throw new IOException("The client closed the connection.");
    }
}
