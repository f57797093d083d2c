using System.Threading.Channels;
using Castor.Application.Backends;
using Castor.Application.Generation;
using Castor.Application.Metering;

namespace Castor.UnitTests.Metering;

public sealed class MeteredGenerationStreamTests
{
    private static (GenerationStream Inner, ChannelWriter<BackendEvent> Events) Submitted()
    {
        var channel = Channel.CreateUnbounded<BackendEvent>();
        return (new GenerationStream("m", 7, 1, channel.Reader), channel.Writer);
    }

    [Fact]
    public async Task A_stream_read_to_its_end_is_reported_once_with_its_final_usage()
    {
        var (inner, events) = Submitted();
        using var cancellation = new CancellationTokenSource();
        var reports = new List<(Usage? Usage, Exception? Failure)>();
        var stream = new MeteredGenerationStream(inner, (u, f) => reports.Add((u, f)), cancellation.Token);
        events.TryWrite(new TextProduced(0, "Once"));
        events.TryWrite(new CandidateFinished(0, FinishCause.EndOfText, 3));
        events.Complete();

        var updates = await stream.ReadAllAsync().ToListAsync();
        await cancellation.CancelAsync();

        Assert.NotEmpty(updates);
        var (usage, failure) = Assert.Single(reports);
        Assert.Null(failure);
        Assert.Equal((7, 3), (usage!.PromptTokenCount, usage.CandidatesTokenCount));
    }

    [Fact]
    public async Task A_stream_cancelled_before_anyone_read_it_is_reported_as_cancelled_once()
    {
        var (inner, _) = Submitted();
        using var cancellation = new CancellationTokenSource();
        var reports = new List<(Usage? Usage, Exception? Failure)>();
        var stream = new MeteredGenerationStream(inner, (u, f) => reports.Add((u, f)), cancellation.Token);

        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await stream.ReadAllAsync(cancellation.Token).ToListAsync());

        var (usage, failure) = Assert.Single(reports);
        Assert.Null(usage);
        Assert.IsAssignableFrom<OperationCanceledException>(failure);
    }

    [Fact]
    public async Task A_reader_that_stops_early_is_reported_as_cancelled_with_the_usage_so_far()
    {
        var (inner, events) = Submitted();
        var reports = new List<(Usage? Usage, Exception? Failure)>();
        var stream = new MeteredGenerationStream(inner, (u, f) => reports.Add((u, f)), CancellationToken.None);
        events.TryWrite(new TextProduced(0, "Once"));

        await foreach (var _ in stream.ReadAllAsync())
            break;

        var (usage, failure) = Assert.Single(reports);
        Assert.Equal(7, usage!.PromptTokenCount);
        Assert.IsAssignableFrom<OperationCanceledException>(failure);
    }
}
