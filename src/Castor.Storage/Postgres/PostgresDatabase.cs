using System.Data.Common;
using Castor.Storage.Relational;
using Npgsql;

namespace Castor.Storage.Postgres;

/// <summary>
/// PostgreSQL for deployments whose nodes share state: selected by a connection string, brought up to date with the
/// numbered scripts in <c>Postgres/Migrations</c>. Nodes migrating at the same moment serialize on an advisory lock.
/// </summary>
public sealed class PostgresDatabase : IRelationalDatabase, IAsyncDisposable
{
    // Any fixed number; only Castor's migrations take this lock.
    private const long MigrationLockKey = 0x43617374_6F72;

    private readonly NpgsqlDataSource _dataSource;

    public PostgresDatabase(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        Description = $"PostgreSQL: {builder.Host}:{builder.Port}/{builder.Database}" + (string.IsNullOrEmpty(builder.SearchPath) ? "" : $" (schema {builder.SearchPath})");
        _dataSource = NpgsqlDataSource.Create(builder);
    }

    public SqlDialect Dialect => SqlDialect.Postgres;
    public string Description { get; }

    public async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken = default) =>
        await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var setUp = Sql.Command(connection, tx,
                         "SELECT pg_advisory_xact_lock(@key); CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL);",
                         ("@key", MigrationLockKey)))
            await setUp.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

        var applied = new HashSet<int>();
        await using (var read = Sql.Command(connection, tx, "SELECT version FROM schema_migrations"))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) applied.Add(reader.GetInt32(0));

        // PostgreSQL has transactional DDL: all pending scripts apply together, or none does.
        foreach (var (version, name, sql) in Sql.Migrations(typeof(PostgresDatabase).Assembly, "Castor.Storage.Postgres.Migrations."))
        {
            if (applied.Contains(version)) continue;
            await using (var apply = Sql.Command(connection, tx, sql))
                await apply.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await using var record = Sql.Command(connection, tx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @t)",
                ("@v", version), ("@n", name), ("@t", DateTimeOffset.UtcNow));
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
