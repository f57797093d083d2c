using System.Data.Common;
using Castor.Storage.Keys;

namespace Castor.Storage.Relational;

/// <summary>Projects and hashed keys in SQLite or PostgreSQL (the same statements; timestamps per dialect).</summary>
public sealed class SqlKeyStore(IRelationalDatabase database) : IKeyStore
{
    private SqlDialect Dialect => database.Dialect;

    // api_keys.role (migration 0008): text rather than a flag, so a later role (read-only, billing) needs no migration.
    private const string AdminRole = "admin";
    private const string UserRole = "user";

    public async Task<string> EnsureProjectAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await EnsureProjectAsync(connection, null, name, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> AddKeyAsync(StoredKey key, string projectName, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var projectId = await EnsureProjectAsync(connection, tx, projectName, cancellationToken).ConfigureAwait(false);
        await using var insert = Sql.Command(connection, tx, """
            INSERT INTO api_keys (id, project_id, key_hash, hint, display_name, created_at, role)
            VALUES (@id, @project, @hash, @hint, @name, @created, @role)
            ON CONFLICT DO NOTHING
            """,
            ("@id", key.Id), ("@project", projectId), ("@hash", key.Hash), ("@hint", key.Hint), ("@name", key.DisplayName),
            ("@created", Dialect.Time(key.CreatedAt)), ("@role", key.Admin ? AdminRole : UserRole));
        var added = await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return added;
    }

    public async Task<KeyOwner?> FindActiveKeyAsync(byte[] hash, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, """
            SELECT k.id, p.id, p.name, k.role, p.tier FROM api_keys k JOIN projects p ON p.id = k.project_id
            WHERE k.key_hash = @hash AND k.revoked_at IS NULL
            """, ("@hash", hash));
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new KeyOwner(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3) == AdminRole) { Tier = reader.ReadNullableString(4) }
            : null;
    }

    public async Task<IReadOnlyList<KeyListing>> ListKeysAsync(string? projectName, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, """
            SELECT k.id, p.name, k.hint, k.display_name, k.created_at, k.revoked_at, k.role
            FROM api_keys k JOIN projects p ON p.id = k.project_id
            WHERE @project IS NULL OR p.name = @project
            ORDER BY p.name, k.created_at
            """, ("@project", projectName));
        var list = new List<KeyListing>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new KeyListing(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.ReadNullableString(3),
                Dialect.ReadTime(reader, 4), Dialect.ReadNullableTime(reader, 5), reader.GetString(6) == AdminRole));
        }
        return list;
    }

    public async Task<bool> RevokeKeyAsync(string keyId, DateTimeOffset revokedAt, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var update = Sql.Command(connection, null, "UPDATE api_keys SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL",
            ("@id", keyId), ("@at", Dialect.Time(revokedAt)));
        return await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<int> CountActiveKeysAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL");
        return Convert.ToInt32(await query.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false));
    }

    private async Task<string> EnsureProjectAsync(DbConnection connection, DbTransaction? tx, string name, CancellationToken cancellationToken)
    {
        await using (var insert = Sql.Command(connection, tx, "INSERT INTO projects (id, name, created_at) VALUES (@id, @name, @created) ON CONFLICT DO NOTHING",
                         ("@id", "p-" + Guid.NewGuid().ToString("N")[..16]), ("@name", name), ("@created", Dialect.Time(DateTimeOffset.UtcNow))))
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await using var select = Sql.Command(connection, tx, "SELECT id FROM projects WHERE name = @name", ("@name", name));
        return (string)(await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
