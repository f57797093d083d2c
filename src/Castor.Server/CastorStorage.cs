using Castor.Storage.Quotas;
using Castor.Application.Batches;
using Castor.Application.Files;
using Castor.Storage.Caches;
using Castor.Storage.Batches;
using Castor.Storage.Files;
using Castor.Storage.Keys;
using Castor.Storage.Live;
using Castor.Storage.Metering;
using Castor.Storage.Postgres;
using Castor.Storage.Relational;
using Castor.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Castor.Server;

/// <summary>Opens the configured database and registers the stores and the file upkeep on it (the server and the CLI share this).</summary>
public static class CastorStorage
{
    /// <summary>PostgreSQL when <c>Storage:Postgres</c> is set, else SQLite in <paramref name="dataFolder"/>; migrated before use.</summary>
    public static async Task<IRelationalDatabase> OpenAsync(CastorOptions options, string? dataFolder = null, CancellationToken cancellationToken = default)
    {
        IRelationalDatabase database = string.IsNullOrWhiteSpace(options.Storage.Postgres)
            ? new SqliteDatabase(dataFolder ?? options.Data)
            : new PostgresDatabase(options.Storage.Postgres);
        await database.MigrateAsync(cancellationToken).ConfigureAwait(false);
        return database;
    }

    /// <summary>The stores on <paramref name="database"/> (SQLite or PostgreSQL, as <see cref="OpenAsync"/> chose), file bytes under the data folder, and the file upkeep.</summary>
    public static IServiceCollection AddCastorStorage(this IServiceCollection services, CastorOptions options, IRelationalDatabase database)
    {
        services.AddBoundOptions(options.Storage);
        services.AddSingleton(database);
        services.AddSingleton<IKeyStore, SqlKeyStore>();
        services.AddSingleton<IAuthTokenStore, SqlAuthTokenStore>();
        services.AddSingleton<ILiveSessionStore, SqlLiveSessionStore>();
        services.AddSingleton<IFileStore, SqlFileStore>();
        services.AddSingleton<IBatchStore, SqlBatchStore>();
        services.AddSingleton<IProjectStore, SqlProjectStore>();
        services.AddSingleton<IBatchBacklogStore, SqlBatchBacklogStore>();
        services.AddSingleton<ILiveSessionLeaseStore, SqlLiveSessionLeaseStore>();
        // One node on SQLite counts in memory and writes behind; PostgreSQL nodes count in the database, which they share.
        services.AddSingleton<IQuotaCounterStore>(_ => database.Dialect == SqlDialect.Sqlite
            ? new MemoryQuotaCounterStore(new SqlQuotaCounterStore(database))
            : new SqlQuotaCounterStore(database));
        services.AddSingleton<IUsageStore, SqlUsageStore>();
        services.AddSingleton(new FileContentStore(Path.Combine(options.Data, "files")));
        services.AddSingleton<ICachedContentStore, SqlCachedContentStore>();
        services.AddSingleton(new SnapshotFileStore(Path.Combine(options.Data, "caches")));
        services.AddHostedService(sp => new FileMaintenance(sp.GetRequiredService<FileProcessor>(), sp.GetRequiredService<FileSweeper>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<FileLimits>().SweepInterval, sp.GetRequiredService<ILogger<FileMaintenance>>()));
        services.AddHostedService(sp => new BatchProcessing(sp.GetRequiredService<BatchWorker>()));
        return services;
    }
}

/// <summary>Runs this node's batch worker for as long as the server runs.</summary>
public sealed class BatchProcessing(BatchWorker worker) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => worker.RunAsync(stoppingToken);
}

/// <summary>Runs the file processor and, every <c>SweepInterval</c>, the sweeper, for as long as the server runs.</summary>
public sealed class FileMaintenance(FileProcessor processor, FileSweeper sweeper, TimeProvider clock, TimeSpan interval, ILogger<FileMaintenance> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.WhenAll(processor.RunAsync(stoppingToken), SweepLoopAsync(stoppingToken));

    private async Task SweepLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval > TimeSpan.Zero ? interval : TimeSpan.FromMinutes(5), clock);
        do
        {
            try
            {
                await sweeper.SweepAsync(clock.GetUtcNow(), stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "The file sweep failed; it runs again in {Interval}", interval);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
