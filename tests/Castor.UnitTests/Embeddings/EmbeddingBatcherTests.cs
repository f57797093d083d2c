using Castor.Engine.Embedding;
using Castor.Engine.Scheduling;
using Microsoft.Extensions.Logging.Abstractions;

namespace Castor.UnitTests.Embeddings;

public sealed class EmbeddingBatcherTests
{
    private static TokenizedText Tokens(int length) => new(Enumerable.Range(1, length).ToArray(), false);

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Texts_are_packed_into_runs_within_the_backends_limits()
    {
        using var backend = new FakeEmbeddingBackend(limits: new EmbeddingBatchLimits(MaxSequences: 4, MaxTokens: 1000, Padded: true, BatchInvariant: true));
        using var batcher = new EmbeddingBatcher("m", backend, 8, NullLogger.Instance);
        var vectors = await batcher.SubmitAsync(Enumerable.Range(1, 10).Select(Tokens).ToList(), default).WaitAsync(Timeout);
        Assert.Equal(10, vectors.Length);
        Assert.Equal([4, 4, 2], backend.RunSizes);
        // Answers come back in request order even though runs are sorted by length.
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (float)i), vectors.Select(v => v[0]));
        Assert.Equal(3, batcher.Runs);
    }

    [Fact]
    public async Task With_parallel_runs_a_small_round_is_split_so_every_core_gets_a_share()
    {
        using var backend = new FakeEmbeddingBackend(limits: new EmbeddingBatchLimits(MaxSequences: 64, MaxTokens: 4096, Padded: true, BatchInvariant: true, ParallelRuns: 2));
        using var batcher = new EmbeddingBatcher("m", backend, 8, NullLogger.Instance);
        var vectors = await batcher.SubmitAsync(Enumerable.Range(1, 9).Select(Tokens).ToList(), default).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (float)i), vectors.Select(v => v[0]));
        Assert.Equal([4, 5], backend.RunSizes.Order());

        await batcher.SubmitAsync([Tokens(3)], default).WaitAsync(Timeout);
        Assert.Equal(3, batcher.Runs);
    }

    [Fact]
    public async Task A_padded_run_stops_before_its_token_budget()
    {
        using var backend = new FakeEmbeddingBackend(limits: new EmbeddingBatchLimits(MaxSequences: 64, MaxTokens: 100, Padded: true, BatchInvariant: true));
        using var batcher = new EmbeddingBatcher("m", backend, 8, NullLogger.Instance);
        await batcher.SubmitAsync([Tokens(50), Tokens(50), Tokens(50)], default).WaitAsync(Timeout);
        Assert.Equal([2, 1], backend.RunSizes);
    }

    [Fact]
    public async Task Waiting_requests_share_a_run_when_vectors_do_not_depend_on_their_neighbours()
    {
        using var backend = new FakeEmbeddingBackend(limits: new EmbeddingBatchLimits(32, 4096, Padded: true, BatchInvariant: true));
        using var batcher = new EmbeddingBatcher("m", backend, 16, NullLogger.Instance);
        backend.Gate.Reset();
        var first = batcher.SubmitAsync([Tokens(3)], default);
        Assert.True(backend.RunStarted.Wait(Timeout));
        var queued = Enumerable.Range(1, 5).Select(i => batcher.SubmitAsync([Tokens(i)], default)).ToList();
        backend.Gate.Set();
        await Task.WhenAll(queued.Append(first)).WaitAsync(Timeout);
        Assert.Equal([1, 5], backend.RunSizes);
    }

    [Fact]
    public async Task Requests_keep_runs_of_their_own_when_vectors_depend_on_the_batch()
    {
        using var backend = new FakeEmbeddingBackend(limits: new EmbeddingBatchLimits(32, 4096, Padded: false, BatchInvariant: false));
        using var batcher = new EmbeddingBatcher("m", backend, 16, NullLogger.Instance);
        backend.Gate.Reset();
        var first = batcher.SubmitAsync([Tokens(3)], default);
        Assert.True(backend.RunStarted.Wait(Timeout));
        var queued = Enumerable.Range(1, 3).Select(i => batcher.SubmitAsync([Tokens(i), Tokens(i + 1)], default)).ToList();
        backend.Gate.Set();
        await Task.WhenAll(queued.Append(first)).WaitAsync(Timeout);
        Assert.Equal([1, 2, 2, 2], backend.RunSizes);
    }

    [Fact]
    public async Task A_request_cancelled_while_waiting_is_dropped_before_its_run()
    {
        using var backend = new FakeEmbeddingBackend();
        using var batcher = new EmbeddingBatcher("m", backend, 16, NullLogger.Instance);
        backend.Gate.Reset();
        var first = batcher.SubmitAsync([Tokens(3)], default);
        Assert.True(backend.RunStarted.Wait(Timeout));
        using var cancel = new CancellationTokenSource();
        var dropped = batcher.SubmitAsync([Tokens(4), Tokens(5)], cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dropped.WaitAsync(Timeout));
        backend.Gate.Set();
        await first.WaitAsync(Timeout);
        Assert.Equal([1], backend.RunSizes);
    }

    [Fact]
    public async Task A_full_queue_is_refused_at_once()
    {
        using var backend = new FakeEmbeddingBackend();
        using var batcher = new EmbeddingBatcher("m", backend, maxQueue: 2, NullLogger.Instance);
        backend.Gate.Reset();
        var running = batcher.SubmitAsync([Tokens(1)], default);
        var waiting = batcher.SubmitAsync([Tokens(1)], default);
        Assert.Throws<EngineOverloadedException>(() => { _ = batcher.SubmitAsync([Tokens(1)], default); });
        backend.Gate.Set();
        await Task.WhenAll(running, waiting).WaitAsync(Timeout);
        // Places are given back as requests finish.
        await batcher.SubmitAsync([Tokens(1)], default).WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_failing_run_fails_its_requests_and_the_batcher_carries_on()
    {
        using var backend = new FakeEmbeddingBackend { FailWith = new InvalidOperationException("boom") };
        using var batcher = new EmbeddingBatcher("m", backend, 8, NullLogger.Instance);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.SubmitAsync([Tokens(2)], default).WaitAsync(Timeout));
        Assert.Equal("boom", error.Message);
        backend.FailWith = null;
        Assert.Single(await batcher.SubmitAsync([Tokens(2)], default).WaitAsync(Timeout));
    }
}
