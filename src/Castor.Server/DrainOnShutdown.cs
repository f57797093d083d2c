using Castor.Api.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Castor.Server;

/// <summary>
/// The drain of a shutdown (SIGTERM, Ctrl+C). Its <see cref="StoppingAsync"/> runs before any hosted service stops, so
/// Kestrel still listens: readiness turns false, new requests get 503 with Retry-After, and the running ones finish.
/// It returns when none is left or when the host's ShutdownTimeout (the grace period) ends; Kestrel then stops and cuts
/// what still runs.
/// </summary>
internal sealed class DrainOnShutdown(ServerDrain drain, ILogger<DrainOnShutdown> logger, CastorOptions options) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        drain.BeginDrain();
        var running = drain.InFlight;
        if (running == 0) return;
        logger.LogInformation("Draining: {Running} requests running, up to {Grace} s to finish (ShutdownTimeout)", running, options.ShutdownTimeout.TotalSeconds);
        try
        {
            await drain.WaitForIdleAsync(cancellationToken).ConfigureAwait(false);
            logger.LogInformation("Drained: every running request finished");
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("The grace period ended with {Running} requests still running; they are cut", drain.InFlight);
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
