using System.Data.Common;
using Castor.Storage.Relational;
using Microsoft.Data.Sqlite;

namespace Castor.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode under the data folder, brought up to date with the numbered
/// scripts in <c>Sqlite/Migrations</c> (each applied once, in a transaction, recorded in <c>schema_migrations</c>).
/// </summary>
public sealed class SqliteDatabase : IRelationalDatabase
{
    public const string FileName = "castor.db";

    public SqliteDatabase(string dataFolder)
    {
        PrivateFiles.CreateFolder(dataFolder);
        FilePath = Path.GetFullPath(Path.Combine(dataFolder, FileName));
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string FilePath { get; }
    public string ConnectionString { get; }
    public SqlDialect Dialect => SqlDialect.Sqlite;
    public string Description => "SQLite: " + FilePath;

    async Task<DbConnection> IRelationalDatabase.OpenConnectionAsync(CancellationToken cancellationToken) =>
        await OpenAsync(cancellationToken).ConfigureAwait(false);

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var pragma = connection.CreateCommand();
        // busy_timeout lets the CLI and a running server write the same file without SQLITE_BUSY errors.
        pragma.CommandText = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;";
        await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // 0600 before WAL mode: SQLite gives its -wal and -shm files the database file's mode.
        foreach (var suffix in new[] { "", "-wal", "-shm", "-journal" })
            PrivateFiles.Restrict(FilePath + suffix);
        await using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL; CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);";
            await wal.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var applied = new HashSet<int>();
        await using (var read = connection.CreateCommand())
        {
            read.CommandText = "SELECT version FROM schema_migrations";
            await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) applied.Add(reader.GetInt32(0));
        }

        foreach (var (version, name, sql) in Migrations())
        {
            if (applied.Contains(version)) continue;
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var apply = connection.CreateCommand())
            {
                apply.Transaction = tx;
                apply.CommandText = sql;
                await apply.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await using (var record = connection.CreateCommand())
            {
                record.Transaction = tx;
                // OR IGNORE: two processes may race to migrate a fresh file; the loser's transaction changes nothing.
                record.CommandText = "INSERT OR IGNORE INTO schema_migrations (version, name, applied_at) VALUES ($v, $n, $t)";
                record.Parameters.AddWithValue("$v", version);
                record.Parameters.AddWithValue("$n", name);
                record.Parameters.AddWithValue("$t", DateTimeOffset.UtcNow.ToString("O"));
                await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static IEnumerable<(int Version, string Name, string Sql)> Migrations() =>
        Sql.Migrations(typeof(SqliteDatabase).Assembly, "Castor.Storage.Sqlite.Migrations.");
}
