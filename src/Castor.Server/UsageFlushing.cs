using Castor.Application.Metering;
using Microsoft.Extensions.Hosting;

namespace Castor.Server;

/// <summary>
/// Writes metered usage to the database every <c>Usage:FlushInterval</c> while the server runs, when it stops, and once
/// more at <see cref="IHostApplicationLifetime.ApplicationStopped"/>, after the server has let its last requests finish:
/// a request that ends while the host is stopping is still written.
/// </summary>
public sealed class UsageFlushing(UsageMeter meter, IHostApplicationLifetime lifetime) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopped.Register(() => meter.TryFlushAsync(CancellationToken.None).GetAwaiter().GetResult());
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => meter.RunAsync(stoppingToken);
}
