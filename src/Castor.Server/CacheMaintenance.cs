using Castor.Application.Caching;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Castor.Server;

/// <summary>Every <c>Caches:SweepInterval</c>, removes expired cached contents with their snapshots, for as long as the server runs.</summary>
public sealed class CacheMaintenance(CachedContentService caches, CacheSettings settings, TimeProvider clock, ILogger<CacheMaintenance> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.SweepInterval, clock);
        do
        {
            try
            {
                var swept = await caches.SweepAsync(stoppingToken).ConfigureAwait(false);
                if (swept > 0) logger.LogInformation("Removed {Count} expired cached contents", swept);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "The cache sweep failed; it runs again in {Interval}", settings.SweepInterval);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
