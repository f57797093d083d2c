using System.Collections.Concurrent;

namespace Castor.Storage.Quotas;

/// <summary>
/// Rate-limit counters for one node (SQLite): counted in memory, where adding is an interlocked add, and written behind
/// to the database every <see cref="FlushInterval"/> in one transaction-sized upsert, so a restart keeps the day's counts.
/// SQLite serialises writers, and 64 requests each waiting for the write lock (its busy handler sleeps) cost
/// milliseconds a request; counting in memory costs microseconds. A counter first used after a restart starts from the
/// database's total. Only for one server per database: several servers share counts through PostgreSQL, uncached.
/// </summary>
public sealed class MemoryQuotaCounterStore : IQuotaCounterStore, IAsyncDisposable
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    private readonly IQuotaCounterStore _inner;
    private readonly ConcurrentDictionary<CounterKey, Lazy<Task<Counter>>> _counters = new();
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private readonly Timer _timer;

    public MemoryQuotaCounterStore(IQuotaCounterStore inner)
    {
        _inner = inner;
        _timer = new Timer(_ => _ = FlushQuietlyAsync(), null, FlushInterval, FlushInterval);
    }

    public async Task<long[]> AddAsync(IReadOnlyList<QuotaCounterDelta> deltas, CancellationToken cancellationToken = default)
    {
        var totals = new long[deltas.Count];
        for (var i = 0; i < deltas.Count; i++)
        {
            var d = deltas[i];
            var key = new CounterKey(d.ProjectId, d.Model, d.Metric, d.WindowStart);
            var load = _counters.GetOrAdd(key, k => new Lazy<Task<Counter>>(() => LoadAsync(k)));
            Task<Counter> loading = load.Value;
            var counter = loading.IsCompletedSuccessfully ? loading.Result : await loading.ConfigureAwait(false);
            totals[i] = Interlocked.Add(ref counter.Used, d.Amount);
            Interlocked.Add(ref counter.Unwritten, d.Amount);
        }
        return totals;
    }

    public async Task<int> DeleteBeforeAsync(long windowStart, CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        foreach (var key in _counters.Keys)
            if (key.WindowStart < windowStart) _counters.TryRemove(key, out _);
        return await _inner.DeleteBeforeAsync(windowStart, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes every count not written yet to the database in one statement.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _flushing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var deltas = new List<QuotaCounterDelta>();
            var taken = new List<(Counter Counter, long Amount)>();
            foreach (var (key, load) in _counters)
            {
                if (!load.IsValueCreated || !load.Value.IsCompletedSuccessfully) continue;
                var counter = load.Value.Result;
                var amount = Interlocked.Exchange(ref counter.Unwritten, 0);
                if (amount == 0) continue;
                deltas.Add(new QuotaCounterDelta(key.ProjectId, key.Model, key.Metric, key.WindowStart, amount));
                taken.Add((counter, amount));
            }
            if (deltas.Count == 0) return;
            try
            {
                await _inner.AddAsync(deltas, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Not written: keep the amounts for the next flush.
                foreach (var (counter, amount) in taken) Interlocked.Add(ref counter.Unwritten, amount);
                throw;
            }
        }
        finally
        {
            _flushing.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _timer.DisposeAsync().ConfigureAwait(false);
        await FlushQuietlyAsync().ConfigureAwait(false);
    }

    private async Task FlushQuietlyAsync()
    {
        try { await FlushAsync().ConfigureAwait(false); }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException or ObjectDisposedException) { }
    }

    /// <summary>A counter's total so far in the database (an upsert of 0 reads it, creating the row if needed).</summary>
    private async Task<Counter> LoadAsync(CounterKey key)
    {
        try
        {
            var totals = await _inner.AddAsync([new QuotaCounterDelta(key.ProjectId, key.Model, key.Metric, key.WindowStart, 0)]).ConfigureAwait(false);
            return new Counter { Used = totals[0] };
        }
        catch
        {
            // A failed read is retried by the next request rather than remembered.
            _counters.TryRemove(key, out _);
            throw;
        }
    }

    private readonly record struct CounterKey(string ProjectId, string Model, string Metric, long WindowStart);

    private sealed class Counter
    {
        public long Used;
        public long Unwritten;
    }
}
