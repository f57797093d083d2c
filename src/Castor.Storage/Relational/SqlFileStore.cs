using System.Data.Common;
using Castor.Storage.Files;

namespace Castor.Storage.Relational;

/// <summary>File and upload-session metadata in SQLite or PostgreSQL (the same statements; timestamps per dialect).</summary>
public sealed class SqlFileStore(IRelationalDatabase database) : IFileStore
{
    private const string FileColumns = "project_id, id, display_name, mime_type, size_bytes, sha256, state, error_message, create_time, update_time, expiration_time";
    private const string UploadColumns = "upload_id, project_id, file_id, display_name, mime_type, declared_size, received_bytes, create_time, expiration_time";

    private SqlDialect Dialect => database.Dialect;

    public async Task<StartUploadResult> StartUploadAsync(UploadSession session, long projectQuotaBytes, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // SQLite's transactions take the write lock up front (BEGIN IMMEDIATE); PostgreSQL locks the project row.
        // Either way two uploads of one project cannot both pass the name and quota checks on the same snapshot.
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (Dialect == SqlDialect.Postgres)
        {
            await using var lockProject = Sql.Command(connection, tx, "SELECT id FROM projects WHERE id = @p FOR UPDATE", ("@p", session.ProjectId));
            await lockProject.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (await IsClaimedAsync(connection, tx, session.ProjectId, session.FileId, cancellationToken).ConfigureAwait(false))
            return StartUploadResult.NameTaken;
        var used = await UsedBytesAsync(connection, tx, session.ProjectId, cancellationToken).ConfigureAwait(false);
        if (used + (session.DeclaredSize ?? 0) > projectQuotaBytes)
            return StartUploadResult.QuotaExceeded;

        await using (var insert = Sql.Command(connection, tx, $"""
                         INSERT INTO file_uploads ({UploadColumns})
                         VALUES (@upload, @project, @file, @display, @mime, @declared, @received, @created, @expires)
                         """,
                         ("@upload", session.UploadId), ("@project", session.ProjectId), ("@file", session.FileId), ("@display", session.DisplayName),
                         ("@mime", session.MimeType), ("@declared", Sql.Int64(session.DeclaredSize)), ("@received", session.ReceivedBytes),
                         ("@created", Dialect.Time(session.CreateTime)), ("@expires", Dialect.Time(session.ExpirationTime))))
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return StartUploadResult.Started;
    }

    public async Task<UploadSession?> FindUploadAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, $"SELECT {UploadColumns} FROM file_uploads WHERE upload_id = @upload", ("@upload", uploadId));
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadUpload(reader) : null;
    }

    public async Task<bool> AdvanceUploadAsync(string uploadId, long expectedReceived, long received, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var update = Sql.Command(connection, null,
            "UPDATE file_uploads SET received_bytes = @received WHERE upload_id = @upload AND received_bytes = @expected",
            ("@upload", uploadId), ("@expected", expectedReceived), ("@received", received));
        return await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<bool> CompleteUploadAsync(string uploadId, StoredFile file, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var end = Sql.Command(connection, tx, "DELETE FROM file_uploads WHERE upload_id = @upload", ("@upload", uploadId)))
            if (await end.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
                return false;
        await using (var insert = Sql.Command(connection, tx, $"""
                         INSERT INTO files ({FileColumns})
                         VALUES (@project, @id, @display, @mime, @size, @sha, @state, @error, @created, @updated, @expires)
                         ON CONFLICT DO NOTHING
                         """, FileParameters(file)))
            if (await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
                return false;
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<bool> DeleteUploadAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var delete = Sql.Command(connection, null, "DELETE FROM file_uploads WHERE upload_id = @upload", ("@upload", uploadId));
        return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<StoredFile?> GetAsync(string projectId, string fileId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, $"SELECT {FileColumns} FROM files WHERE project_id = @project AND id = @id",
            ("@project", projectId), ("@id", fileId));
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadFile(reader) : null;
    }

    public async Task<IReadOnlyList<StoredFile>> ListAsync(string projectId, int limit, FileCursor? after, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var where = after is null ? "" : "AND (create_time < @afterTime OR (create_time = @afterTime AND id < @afterId))";
        await using var query = Sql.Command(connection, null,
            $"SELECT {FileColumns} FROM files WHERE project_id = @project {where} ORDER BY create_time DESC, id DESC LIMIT @limit",
            ("@project", projectId), ("@limit", limit),
            ("@afterTime", after is null ? null : Dialect.Time(after.CreateTime)), ("@afterId", after?.Id));
        return await ReadFilesAsync(query, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> DeleteAsync(string projectId, string fileId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var delete = Sql.Command(connection, null, "DELETE FROM files WHERE project_id = @project AND id = @id", ("@project", projectId), ("@id", fileId));
        return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<bool> SetStateAsync(string projectId, string fileId, FileState state, string? errorMessage, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var update = Sql.Command(connection, null,
            "UPDATE files SET state = @state, error_message = @error, update_time = @now WHERE project_id = @project AND id = @id",
            ("@project", projectId), ("@id", fileId), ("@state", StateName(state)), ("@error", errorMessage), ("@now", Dialect.Time(now)));
        return await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<long> UsedBytesAsync(string projectId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await UsedBytesAsync(connection, null, projectId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<StoredFile>> ExpiredFilesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, $"SELECT {FileColumns} FROM files WHERE expiration_time <= @now ORDER BY expiration_time LIMIT @limit",
            ("@now", Dialect.Time(now)), ("@limit", limit));
        return await ReadFilesAsync(query, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<UploadSession>> ExpiredUploadsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, $"SELECT {UploadColumns} FROM file_uploads WHERE expiration_time <= @now ORDER BY expiration_time LIMIT @limit",
            ("@now", Dialect.Time(now)), ("@limit", limit));
        var list = new List<UploadSession>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) list.Add(ReadUpload(reader));
        return list;
    }

    public async Task<IReadOnlyList<StoredFile>> InStateAsync(FileState state, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, $"SELECT {FileColumns} FROM files WHERE state = @state ORDER BY create_time LIMIT @limit",
            ("@state", StateName(state)), ("@limit", limit));
        return await ReadFilesAsync(query, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> IsClaimedAsync(string projectId, string fileId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await IsClaimedAsync(connection, null, projectId, fileId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> UploadExistsAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, "SELECT COUNT(*) FROM file_uploads WHERE upload_id = @upload", ("@upload", uploadId));
        return Convert.ToInt64(await query.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)) > 0;
    }

    private static async Task<bool> IsClaimedAsync(DbConnection connection, DbTransaction? tx, string projectId, string fileId, CancellationToken cancellationToken)
    {
        await using var query = Sql.Command(connection, tx, """
            SELECT (SELECT COUNT(*) FROM files WHERE project_id = @project AND id = @id)
                 + (SELECT COUNT(*) FROM file_uploads WHERE project_id = @project AND file_id = @id)
            """, ("@project", projectId), ("@id", fileId));
        return Convert.ToInt64(await query.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)) > 0;
    }

    private static async Task<long> UsedBytesAsync(DbConnection connection, DbTransaction? tx, string projectId, CancellationToken cancellationToken)
    {
        await using var query = Sql.Command(connection, tx, """
            SELECT (SELECT COALESCE(SUM(size_bytes), 0) FROM files WHERE project_id = @project)
                 + (SELECT COALESCE(SUM(COALESCE(declared_size, received_bytes)), 0) FROM file_uploads WHERE project_id = @project)
            """, ("@project", projectId));
        return Convert.ToInt64(await query.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false));
    }

    private async Task<IReadOnlyList<StoredFile>> ReadFilesAsync(DbCommand query, CancellationToken cancellationToken)
    {
        var list = new List<StoredFile>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) list.Add(ReadFile(reader));
        return list;
    }

    private (string, object?)[] FileParameters(StoredFile f) =>
    [
        ("@project", f.ProjectId), ("@id", f.Id), ("@display", f.DisplayName), ("@mime", f.MimeType), ("@size", f.SizeBytes),
        ("@sha", f.Sha256), ("@state", StateName(f.State)), ("@error", f.ErrorMessage),
        ("@created", Dialect.Time(f.CreateTime)), ("@updated", Dialect.Time(f.UpdateTime)), ("@expires", Dialect.Time(f.ExpirationTime)),
    ];

    private StoredFile ReadFile(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.ReadNullableString(2), r.GetString(3), r.GetInt64(4), r.GetFieldValue<byte[]>(5),
        ParseState(r.GetString(6)), r.ReadNullableString(7), Dialect.ReadTime(r, 8), Dialect.ReadTime(r, 9), Dialect.ReadTime(r, 10));

    private UploadSession ReadUpload(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.ReadNullableString(3), r.GetString(4),
        r.IsDBNull(5) ? null : r.GetInt64(5), r.GetInt64(6), Dialect.ReadTime(r, 7), Dialect.ReadTime(r, 8));

    private static string StateName(FileState state) => state switch
    {
        FileState.Processing => "PROCESSING",
        FileState.Active => "ACTIVE",
        _ => "FAILED",
    };

    private static FileState ParseState(string name) => name switch
    {
        "PROCESSING" => FileState.Processing,
        "ACTIVE" => FileState.Active,
        _ => FileState.Failed,
    };
}
