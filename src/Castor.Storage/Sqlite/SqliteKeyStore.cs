using Castor.Storage.Keys;
using Microsoft.Data.Sqlite;

namespace Castor.Storage.Sqlite;

public sealed class SqliteKeyStore(SqliteDatabase database) : IKeyStore
{
    public async Task<string> EnsureProjectAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await EnsureProjectAsync(connection, null, name, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> AddKeyAsync(StoredKey key, string projectName, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var projectId = await EnsureProjectAsync(connection, tx, projectName, cancellationToken).ConfigureAwait(false);
        await using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = """
            INSERT OR IGNORE INTO api_keys (id, project_id, key_hash, hint, display_name, created_at)
            VALUES ($id, $project, $hash, $hint, $name, $created)
            """;
        insert.Parameters.AddWithValue("$id", key.Id);
        insert.Parameters.AddWithValue("$project", projectId);
        insert.Parameters.AddWithValue("$hash", key.Hash);
        insert.Parameters.AddWithValue("$hint", key.Hint);
        insert.Parameters.AddWithValue("$name", (object?)key.DisplayName ?? DBNull.Value);
        insert.Parameters.AddWithValue("$created", key.CreatedAt.ToString("O"));
        var added = await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return added;
    }

    public async Task<KeyOwner?> FindActiveKeyAsync(byte[] hash, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var query = connection.CreateCommand();
        query.CommandText = """
            SELECT k.id, p.id, p.name FROM api_keys k JOIN projects p ON p.id = k.project_id
            WHERE k.key_hash = $hash AND k.revoked_at IS NULL
            """;
        query.Parameters.AddWithValue("$hash", hash);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new KeyOwner(reader.GetString(0), reader.GetString(1), reader.GetString(2))
            : null;
    }

    public async Task<IReadOnlyList<KeyListing>> ListKeysAsync(string? projectName, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var query = connection.CreateCommand();
        query.CommandText = """
            SELECT k.id, p.name, k.hint, k.display_name, k.created_at, k.revoked_at
            FROM api_keys k JOIN projects p ON p.id = k.project_id
            WHERE $project IS NULL OR p.name = $project
            ORDER BY p.name, k.created_at
            """;
        query.Parameters.AddWithValue("$project", (object?)projectName ?? DBNull.Value);
        var list = new List<KeyListing>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new KeyListing(
                reader.GetString(0), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                DateTimeOffset.Parse(reader.GetString(4)),
                reader.IsDBNull(5) ? null : DateTimeOffset.Parse(reader.GetString(5))));
        }
        return list;
    }

    public async Task<bool> RevokeKeyAsync(string keyId, DateTimeOffset revokedAt, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var update = connection.CreateCommand();
        update.CommandText = "UPDATE api_keys SET revoked_at = $at WHERE id = $id AND revoked_at IS NULL";
        update.Parameters.AddWithValue("$id", keyId);
        update.Parameters.AddWithValue("$at", revokedAt.ToString("O"));
        return await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<int> CountActiveKeysAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var query = connection.CreateCommand();
        query.CommandText = "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL";
        return Convert.ToInt32(await query.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false));
    }

    private static async Task<string> EnsureProjectAsync(SqliteConnection connection, SqliteTransaction? tx, string name, CancellationToken cancellationToken)
    {
        await using (var insert = connection.CreateCommand())
        {
            insert.Transaction = tx;
            insert.CommandText = "INSERT OR IGNORE INTO projects (id, name, created_at) VALUES ($id, $name, $created)";
            insert.Parameters.AddWithValue("$id", "p-" + Guid.NewGuid().ToString("N")[..16]);
            insert.Parameters.AddWithValue("$name", name);
            insert.Parameters.AddWithValue("$created", DateTimeOffset.UtcNow.ToString("O"));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await using var select = connection.CreateCommand();
        select.Transaction = tx;
        select.CommandText = "SELECT id FROM projects WHERE name = $name";
        select.Parameters.AddWithValue("$name", name);
        return (string)(await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
