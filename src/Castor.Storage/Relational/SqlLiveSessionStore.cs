using Castor.Storage.Live;

namespace Castor.Storage.Relational;

/// <summary>Resumable Live sessions in SQLite or PostgreSQL.</summary>
public sealed class SqlLiveSessionStore(IRelationalDatabase database) : ILiveSessionStore
{
    private SqlDialect Dialect => database.Dialect;

    public async Task SaveAsync(StoredLiveSession session, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (var sweep = Sql.Command(connection, null, "DELETE FROM live_sessions WHERE expire_time < @now", ("@now", Dialect.Time(now))))
            await sweep.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        // One statement for both cases (SQLite 3.24+ and PostgreSQL share this upsert), so a row is never half-written.
        await using var upsert = Sql.Command(connection, null, """
            INSERT INTO live_sessions (id, handle_hash, project_id, model, setup, conversation, update_time, expire_time)
            VALUES (@id, @hash, @project, @model, @setup, @conversation, @update, @expire)
            ON CONFLICT (id) DO UPDATE SET handle_hash = excluded.handle_hash, model = excluded.model, setup = excluded.setup,
                conversation = excluded.conversation, update_time = excluded.update_time, expire_time = excluded.expire_time
            """,
            ("@id", session.Id), ("@hash", session.HandleHash), ("@project", session.ProjectId), ("@model", session.Model),
            ("@setup", session.Setup), ("@conversation", session.Conversation),
            ("@update", Dialect.Time(session.UpdateTime)), ("@expire", Dialect.Time(session.ExpireTime)));
        await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoredLiveSession?> FindAsync(byte[] handleHash, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, """
            SELECT id, handle_hash, project_id, model, setup, conversation, update_time, expire_time
            FROM live_sessions WHERE handle_hash = @hash
            """, ("@hash", handleHash));
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new StoredLiveSession(
            reader.GetString(0), (byte[])reader.GetValue(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
            reader.GetString(5), Dialect.ReadTime(reader, 6), Dialect.ReadTime(reader, 7));
    }
}
