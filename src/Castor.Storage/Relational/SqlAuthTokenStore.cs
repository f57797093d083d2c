using Castor.Storage.Keys;

namespace Castor.Storage.Relational;

/// <summary>Ephemeral tokens in SQLite or PostgreSQL.</summary>
public sealed class SqlAuthTokenStore(IRelationalDatabase database) : IAuthTokenStore
{
    private SqlDialect Dialect => database.Dialect;

    public async Task AddAsync(StoredAuthToken token, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (var sweep = Sql.Command(connection, null, "DELETE FROM auth_tokens WHERE expire_time < @now", ("@now", Dialect.Time(now))))
            await sweep.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await using var insert = Sql.Command(connection, null, """
            INSERT INTO auth_tokens (id, token_hash, project_id, key_id, uses, uses_taken, create_time, expire_time, new_session_expire_time, setup, field_mask)
            VALUES (@id, @hash, @project, @key, @uses, 0, @create, @expire, @newSession, @setup, @mask)
            """,
            ("@id", token.Id), ("@hash", token.Hash), ("@project", token.ProjectId), ("@key", token.KeyId), ("@uses", token.Uses),
            ("@create", Dialect.Time(token.CreateTime)), ("@expire", Dialect.Time(token.ExpireTime)),
            ("@newSession", Dialect.Time(token.NewSessionExpireTime)), ("@setup", token.Setup), ("@mask", token.FieldMask));
        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoredAuthToken?> FindAsync(byte[] hash, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, """
            SELECT t.id, t.token_hash, t.project_id, t.key_id, t.uses, t.uses_taken, t.create_time, t.expire_time,
                   t.new_session_expire_time, t.setup, t.field_mask, p.name
            FROM auth_tokens t
            JOIN api_keys k ON k.id = t.key_id AND k.revoked_at IS NULL
            JOIN projects p ON p.id = t.project_id
            WHERE t.token_hash = @hash
            """, ("@hash", hash));
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new StoredAuthToken(
            reader.GetString(0), (byte[])reader.GetValue(1), reader.GetString(2), reader.GetString(3),
            Convert.ToInt32(reader.GetValue(4)), Convert.ToInt32(reader.GetValue(5)),
            Dialect.ReadTime(reader, 6), Dialect.ReadTime(reader, 7), Dialect.ReadTime(reader, 8),
            reader.ReadNullableString(9), reader.ReadNullableString(10), reader.GetString(11));
    }

    public async Task<bool> TakeUseAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // One statement, so two connections racing for the last use cannot both get it.
        await using var update = Sql.Command(connection, null,
            "UPDATE auth_tokens SET uses_taken = uses_taken + 1 WHERE id = @id AND (uses = 0 OR uses_taken < uses)", ("@id", id));
        return await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }
}
