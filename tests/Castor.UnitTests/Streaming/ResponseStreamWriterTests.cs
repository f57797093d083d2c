using System.IO.Pipelines;
using System.Text;
using System.Text.Json.Serialization;
using Castor.Api.Hosting;

namespace Castor.UnitTests.Streaming;

/// <summary>Events go out as soon as nothing more is ready, and together when updates pile up.</summary>
public sealed class ResponseStreamWriterTests
{
    [Fact]
    public async Task An_event_is_sent_when_the_next_update_is_not_ready_yet()
    {
        var pipe = new Pipe();
        var output = new ResponseStreamWriter(pipe.Writer);
        var source = new ManualUpdates();

        output.WriteEvent(new Sample { Text = "a" }, SampleJson.Default.Sample, "\r\n\r\n"u8);
        var moving = output.MoveNextAsync(source, CancellationToken.None).AsTask();

        // The update is still pending, yet the event already reached the reader.
        Assert.Equal("data: {\"text\":\"a\"}\r\n\r\n", await ReadAvailableAsync(pipe.Reader));
        Assert.False(moving.IsCompleted);
        source.Release(true);
        Assert.True(await moving);
        Assert.Equal(0, output.PendingBytes);
    }

    [Fact]
    public async Task Events_that_pile_up_while_updates_are_ready_leave_together()
    {
        var pipe = new Pipe();
        var output = new ResponseStreamWriter(pipe.Writer);
        var ready = new ReadyUpdates(3);

        for (var i = 0; await output.MoveNextAsync(ready, CancellationToken.None); i++)
            output.WriteEvent(new Sample { Text = i.ToString() }, SampleJson.Default.Sample, "\n\n"u8);

        // Nothing was sent while the next update was always there: the reader has no data yet.
        Assert.False(pipe.Reader.TryRead(out _));
        Assert.True(output.PendingBytes > 0);
        await output.FlushAsync(CancellationToken.None);
        Assert.Equal("data: {\"text\":\"0\"}\n\ndata: {\"text\":\"1\"}\n\ndata: {\"text\":\"2\"}\n\n", await ReadAvailableAsync(pipe.Reader));
    }

    [Fact]
    public async Task A_large_backlog_is_sent_even_while_updates_are_ready()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var output = new ResponseStreamWriter(pipe.Writer);
        var ready = new ReadyUpdates(int.MaxValue);
        var big = new string('x', 1000);

        var events = 0;
        while (await output.MoveNextAsync(ready, CancellationToken.None) && !pipe.Reader.TryRead(out _))
        {
            output.WriteEvent(new Sample { Text = big }, SampleJson.Default.Sample, "\n\n"u8);
            events++;
        }
        // Sent once about MaxPendingBytes had piled up, not after an unbounded backlog.
        Assert.InRange(events * 1000, ResponseStreamWriter.MaxPendingBytes - 1000, ResponseStreamWriter.MaxPendingBytes + 1000);
    }

    private static async Task<string> ReadAvailableAsync(PipeReader reader)
    {
        var result = await reader.ReadAsync();
        var text = Encoding.UTF8.GetString(result.Buffer);
        reader.AdvanceTo(result.Buffer.End);
        return text;
    }

    private sealed class ManualUpdates : IAsyncEnumerator<int>
    {
        private readonly TaskCompletionSource<bool> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Current => 0;
        public ValueTask<bool> MoveNextAsync() => new(_next.Task);
        public void Release(bool more) => _next.SetResult(more);
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class ReadyUpdates(int count) : IAsyncEnumerator<int>
    {
        private int _left = count;
        public int Current => 0;
        public ValueTask<bool> MoveNextAsync() => ValueTask.FromResult(_left-- > 0);
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

public sealed class Sample
{
    public string? Text { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(Sample))]
internal sealed partial class SampleJson : JsonSerializerContext;
