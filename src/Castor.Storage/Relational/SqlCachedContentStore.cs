using System.Data.Common;
using Castor.Storage.Caches;

namespace Castor.Storage.Relational;

/// <summary>Cached contents' metadata in SQLite or PostgreSQL (the same statements; timestamps per dialect).</summary>
public sealed class SqlCachedContentStore(IRelationalDatabase database) : ICachedContentStore
{
    private const string Columns = "project_id, id, model, display_name, definition, token_count, create_time, update_time, expire_time";

    private SqlDialect Dialect => database.Dialect;

    public async Task InsertAsync(StoredCachedContent cache, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var insert = Sql.Command(connection, null, $"""
            INSERT INTO cached_contents ({Columns})
            VALUES (@project, @id, @model, @display, @definition, @tokens, @created, @updated, @expires)
            """,
            ("@project", cache.ProjectId), ("@id", cache.Id), ("@model", cache.Model), ("@display", cache.DisplayName),
            ("@definition", cache.Definition), ("@tokens", cache.TokenCount), ("@created", Dialect.Time(cache.CreateTime)),
            ("@updated", Dialect.Time(cache.UpdateTime)), ("@expires", Dialect.Time(cache.ExpireTime)));
        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoredCachedContent?> GetAsync(string projectId, string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null,
            $"SELECT {Columns} FROM cached_contents WHERE project_id = @project AND id = @id AND expire_time > @now",
            ("@project", projectId), ("@id", id), ("@now", Dialect.Time(now)));
        var rows = await ReadAsync(query, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<IReadOnlyList<StoredCachedContent>> ListAsync(string projectId, DateTimeOffset now, int limit, CachedContentCursor? after,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var where = after is null ? "" : "AND (create_time < @afterTime OR (create_time = @afterTime AND id < @afterId))";
        await using var query = Sql.Command(connection, null,
            $"SELECT {Columns} FROM cached_contents WHERE project_id = @project AND expire_time > @now {where} ORDER BY create_time DESC, id DESC LIMIT @limit",
            ("@project", projectId), ("@now", Dialect.Time(now)), ("@limit", limit),
            ("@afterTime", after is null ? null : Dialect.Time(after.CreateTime)), ("@afterId", after?.Id));
        return await ReadAsync(query, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<StoredCachedContent>> ListAllAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null,
            $"SELECT {Columns} FROM cached_contents WHERE expire_time > @now ORDER BY project_id, create_time DESC, id DESC", ("@now", Dialect.Time(now)));
        return await ReadAsync(query, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> UpdateExpiryAsync(string projectId, string id, DateTimeOffset expireTime, DateTimeOffset updateTime, DateTimeOffset now,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var update = Sql.Command(connection, null,
            "UPDATE cached_contents SET expire_time = @expires, update_time = @updated WHERE project_id = @project AND id = @id AND expire_time > @now",
            ("@project", projectId), ("@id", id), ("@expires", Dialect.Time(expireTime)), ("@updated", Dialect.Time(updateTime)), ("@now", Dialect.Time(now)));
        return await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<bool> DeleteAsync(string projectId, string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var delete = Sql.Command(connection, null, "DELETE FROM cached_contents WHERE project_id = @project AND id = @id",
            ("@project", projectId), ("@id", id));
        return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<IReadOnlyList<(string ProjectId, string Id)>> DeleteExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var delete = Sql.Command(connection, null,
            "DELETE FROM cached_contents WHERE expire_time <= @now RETURNING project_id, id", ("@now", Dialect.Time(now)));
        await using var reader = await delete.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var gone = new List<(string, string)>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            gone.Add((reader.GetString(0), reader.GetString(1)));
        return gone;
    }

    private async Task<List<StoredCachedContent>> ReadAsync(DbCommand query, CancellationToken cancellationToken)
    {
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<StoredCachedContent>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(new StoredCachedContent(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.ReadNullableString(3),
                reader.GetString(4), reader.GetInt32(5), Dialect.ReadTime(reader, 6), Dialect.ReadTime(reader, 7), Dialect.ReadTime(reader, 8)));
        return rows;
    }
}
