using Castor.Storage.Quotas;

namespace Castor.Application.Quotas;

/// <summary>
/// An open Live session's place in its project's concurrent-sessions limit: its lease is renewed every third of the
/// lease's lifetime while the session is open, and released on <see cref="DisposeAsync"/>. A node that dies renews
/// nothing, so its sessions' places free themselves when the leases expire.
/// </summary>
public sealed class LiveSessionSlot : IAsyncDisposable
{
    private readonly ILiveSessionLeaseStore _leases;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _clock;
    private readonly ITimer _renewal;
    private int _released;

    internal LiveSessionSlot(ILiveSessionLeaseStore leases, string leaseId, TimeSpan lifetime, TimeProvider clock)
    {
        _leases = leases;
        LeaseId = leaseId;
        _lifetime = lifetime;
        _clock = clock;
        var every = lifetime / 3;
        _renewal = clock.CreateTimer(_ => _ = RenewAsync(), null, every, every);
    }

    /// <summary>The lease's id in the store.</summary>
    public string LeaseId { get; }

    /// <summary>Extends the lease by its lifetime from now. A failed renewal is retried by the next tick; the lease outlives a few.</summary>
    public async Task RenewAsync()
    {
        if (Volatile.Read(ref _released) != 0) return;
        try
        {
            await _leases.RenewAsync(LeaseId, _clock.GetUtcNow() + _lifetime, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
        }
    }

    /// <summary>Releases the place (once); a failed release leaves the lease to expire on its own.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        await _renewal.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _leases.ReleaseAsync(LeaseId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
        }
    }
}
