using Castor.Application.Keys;
using Castor.Application.Metering;
using Castor.Storage.Metering;
using Microsoft.Extensions.Logging.Abstractions;

namespace Castor.UnitTests.Metering;

public sealed class UsageMeterTests
{
    private static readonly Caller Alpha = new("p-alpha", "alpha", "k-1");
    private static readonly UsageOrigin Online = new(UsageMethods.GenerateContent, false);

    /// <summary>A store that keeps what it was given, or fails while told to.</summary>
    private sealed class MemoryStore : IUsageStore
    {
        public readonly List<KeyValuePair<UsageBucket, UsageCounts>> Added = [];
        public bool Fail { get; set; }

        public Task AddAsync(IReadOnlyCollection<KeyValuePair<UsageBucket, UsageCounts>> counts, CancellationToken cancellationToken = default)
        {
            if (Fail) throw new IOException("database unavailable");
            lock (Added) Added.AddRange(counts);
            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<UsageTotal>> ReadAsync(UsageQuery query, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<UsageTotal>>([]);
    }

    private static UsageMeter Meter(MemoryStore store, TimeSpan? interval = null) =>
        new(store, new UsageOptions { FlushInterval = interval ?? TimeSpan.FromHours(1) }, TimeProvider.System, NullLogger<UsageMeter>.Instance);

    private static UsageCounts Counts(long prompt, long candidates) => UsageCounts.Zero with { Requests = 1, PromptTokens = prompt, CandidatesTokens = candidates };

    [Fact]
    public async Task Requests_of_one_bucket_are_summed_in_memory_and_written_as_one_row_at_the_flush()
    {
        var store = new MemoryStore();
        var meter = Meter(store);
        meter.Record(Alpha, "models/gemini-2.5-flash", Online, UsageBucket.Ok, Counts(10, 2));
        meter.Record(Alpha, "gemini-2.5-flash", Online, UsageBucket.Ok, Counts(5, 1));
        meter.Record(Alpha, "gemini-2.5-flash", Online, "INVALID_ARGUMENT", UsageMeter.RequestOnly(TimeSpan.Zero));
        Assert.Empty(store.Added);

        await meter.FlushAsync();

        Assert.Equal(2, store.Added.Count);
        var ok = store.Added.Single(a => a.Key.Status == UsageBucket.Ok);
        Assert.Equal(("p-alpha", "k-1", "gemini-2.5-flash", "generateContent"), (ok.Key.ProjectId, ok.Key.KeyId, ok.Key.Model, ok.Key.Method));
        Assert.Equal((2L, 15L, 3L), (ok.Value.Requests, ok.Value.PromptTokens, ok.Value.CandidatesTokens));
        Assert.Equal(0, meter.PendingBuckets);
    }

    [Fact]
    public async Task A_failed_flush_keeps_the_counts_for_the_next_one()
    {
        var store = new MemoryStore { Fail = true };
        var meter = Meter(store);
        meter.Record(Alpha, "m", Online, UsageBucket.Ok, Counts(10, 2));

        await Assert.ThrowsAsync<IOException>(() => meter.FlushAsync());
        meter.Record(Alpha, "m", Online, UsageBucket.Ok, Counts(1, 1));
        store.Fail = false;
        await meter.FlushAsync();

        var row = Assert.Single(store.Added);
        Assert.Equal((2L, 11L, 3L), (row.Value.Requests, row.Value.PromptTokens, row.Value.CandidatesTokens));
    }

    [Fact]
    public void A_batch_request_deferred_for_lack_of_room_is_not_counted()
    {
        var meter = Meter(new MemoryStore());
        var batch = new UsageOrigin(UsageMethods.BatchGenerateContent, true);
        meter.RecordFailure(Alpha, "m", batch, Castor.Application.Errors.CastorException.Overloaded(), UsageMeter.RequestOnly(TimeSpan.Zero));
        Assert.Equal(0, meter.PendingBuckets);
        meter.RecordFailure(Alpha, "m", Online, Castor.Application.Errors.CastorException.Overloaded(), UsageMeter.RequestOnly(TimeSpan.Zero));
        Assert.Equal(1, meter.PendingBuckets);
    }

    [Fact]
    public async Task The_running_meter_flushes_on_its_interval_and_once_more_when_stopped()
    {
        var store = new MemoryStore();
        var meter = Meter(store, TimeSpan.FromMilliseconds(20));
        using var stop = new CancellationTokenSource();
        var running = meter.RunAsync(stop.Token);

        meter.Record(Alpha, "m", Online, UsageBucket.Ok, Counts(1, 1));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Count(store) == 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(1, Count(store));

        // Recorded after the last tick: the flush at stop writes it.
        meter.Record(Alpha, "other", Online, UsageBucket.Ok, Counts(1, 1));
        await stop.CancelAsync();
        await running;
        Assert.Equal(0, meter.PendingBuckets);
        Assert.Contains(store.Added, a => a.Key.Model == "other");
    }

    private static int Count(MemoryStore store)
    {
        lock (store.Added) return store.Added.Count;
    }

    [Fact]
    public void The_usage_context_names_the_method_of_calls_made_inside_it_and_is_restored_after()
    {
        Assert.Null(UsageContext.Current);
        using (UsageContext.Begin(UsageMethods.Live))
        {
            using (UsageContext.Begin(UsageMethods.BatchGenerateContent, batch: true))
                Assert.Equal(new UsageOrigin(UsageMethods.BatchGenerateContent, true), UsageContext.Current);
            Assert.Equal(UsageMethods.Live, UsageContext.Current?.Method);
        }
        Assert.Null(UsageContext.Current);
    }

    [Fact]
    public void A_requests_counts_carry_each_usage_field_per_modality_with_no_tool_use_tokens()
    {
        var usage = new Castor.Application.Generation.Usage(PromptTokenCount: 300, CandidatesTokenCount: 20, CachedContentTokenCount: 40, ThoughtsTokenCount: 7)
        {
            PromptTokensDetails = new Castor.Application.Generation.PromptTokenCounts(Text: 30, Image: 258, Audio: 12),
        };
        var counts = UsageMeter.CountsOf(usage, TimeSpan.FromMilliseconds(125));
        Assert.Equal(new UsageCounts(Requests: 1, PromptTokens: 300, CachedContentTokens: 40, CandidatesTokens: 20, ThoughtsTokens: 7,
            PromptTextTokens: 30, PromptImageTokens: 258, PromptAudioTokens: 12, LatencyMilliseconds: 125), counts);
        Assert.Equal(0, counts.ToolUsePromptTokens);
        Assert.Equal(327, counts.TotalTokens);

        // A stream cut before its first usage is counted from the prompt it queued.
        var unread = UsageMeter.CountsOf(null, TimeSpan.FromMilliseconds(3), 9, new Castor.Application.Generation.PromptTokenCounts(5, 4));
        Assert.Equal((9L, 5L, 4L, 0L, 0L), (unread.PromptTokens, unread.PromptTextTokens, unread.PromptImageTokens, unread.CandidatesTokens, unread.ToolUsePromptTokens));
    }
}

