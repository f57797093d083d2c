using System.Data.Common;
using Castor.Storage.Files;

namespace Castor.Storage.Relational;

/// <summary>File and upload-session metadata in SQLite or PostgreSQL (the same statements; timestamps per dialect).</summary>
public sealed class SqlFileStore(IRelationalDatabase database) : IFileStore
{
    private const string FileColumns = "project_id, id, display_name, mime_type, size_bytes, sha256, state, error_message, create_time, update_time, expiration_time";
    private const string FileReadColumns = FileColumns + ", processing_attempts";
    private const string UploadColumns = "upload_id, project_id, file_id, display_name, mime_type, declared_size, received_bytes, create_time, expiration_time, reserved_bytes";

    // What a project holds apart from the upload @upload: its files and every other upload's reservation. Used inside
    // statements whose transaction serializes the project's writers (see LockProjectOfUploadAsync).
    private const string OthersUsed = """
        (SELECT COALESCE(SUM(size_bytes), 0) FROM files WHERE project_id = @project)
        + (SELECT COALESCE(SUM(reserved_bytes), 0) FROM file_uploads WHERE project_id = @project AND upload_id <> @upload)
        """;

    private SqlDialect Dialect => database.Dialect;

    public async Task<StartUploadResult> StartUploadAsync(UploadSession session, long projectQuotaBytes, int maxOpenUploads = int.MaxValue,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // SQLite's transactions take the write lock up front (BEGIN IMMEDIATE); PostgreSQL locks the project row.
        // Either way two uploads of one project cannot both pass the name, quota and session checks on the same snapshot.
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await LockProjectAsync(connection, tx, session.ProjectId, cancellationToken).ConfigureAwait(false);

        if (await IsClaimedAsync(connection, tx, session.ProjectId, session.FileId, cancellationToken).ConfigureAwait(false))
            return StartUploadResult.NameTaken;
        await using (var open = Sql.Command(connection, tx, "SELECT COUNT(*) FROM file_uploads WHERE project_id = @project AND expiration_time > @now",
                         ("@project", session.ProjectId), ("@now", Dialect.Time(session.CreateTime))))
            if (Convert.ToInt64(await open.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)) >= maxOpenUploads)
                return StartUploadResult.TooManyUploads;
        var reserved = Math.Max(session.ReservedBytes, session.DeclaredSize ?? 0);
        var used = await UsedBytesAsync(connection, tx, session.ProjectId, cancellationToken).ConfigureAwait(false);
        if (used + reserved > projectQuotaBytes)
            return StartUploadResult.QuotaExceeded;

        await using (var insert = Sql.Command(connection, tx, $"""
                         INSERT INTO file_uploads ({UploadColumns})
                         VALUES (@upload, @project, @file, @display, @mime, @declared, @received, @created, @expires, @reserved)
                         """,
                         ("@upload", session.UploadId), ("@project", session.ProjectId), ("@file", session.FileId), ("@display", session.DisplayName),
                         ("@mime", session.MimeType), ("@declared", Sql.Int64(session.DeclaredSize)), ("@received", session.ReceivedBytes),
                         ("@created", Dialect.Time(session.CreateTime)), ("@expires", Dialect.Time(session.ExpirationTime)), ("@reserved", reserved)))
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

    public async Task<bool> ReserveUploadAsync(string uploadId, long reservedBytes, long projectQuotaBytes, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (await LockProjectOfUploadAsync(connection, tx, uploadId, cancellationToken).ConfigureAwait(false) is not { } projectId)
            return false;
        // One statement checks and raises; the transaction (write lock in SQLite, project row lock in PostgreSQL, where
        // each statement reads the latest commits) keeps another upload of the project from passing the same check.
        // A reservation never shrinks: asking for less than it holds keeps it (and succeeds).
        await using (var reserve = Sql.Command(connection, tx, $"""
                         UPDATE file_uploads SET reserved_bytes = CASE WHEN reserved_bytes >= @reserved THEN reserved_bytes ELSE @reserved END
                         WHERE upload_id = @upload AND (reserved_bytes >= @reserved OR {OthersUsed} + @reserved <= @quota)
                         """, ("@upload", uploadId), ("@project", projectId), ("@reserved", reservedBytes), ("@quota", projectQuotaBytes)))
            if (await reserve.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
                return false;
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<bool> AdvanceUploadAsync(string uploadId, long expectedReceived, long received, DateTimeOffset expirationTime, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var update = Sql.Command(connection, null, """
            UPDATE file_uploads SET received_bytes = @received, expiration_time = @expires
            WHERE upload_id = @upload AND received_bytes = @expected AND reserved_bytes >= @received
            """,
            ("@upload", uploadId), ("@expected", expectedReceived), ("@received", received), ("@expires", Dialect.Time(expirationTime)));
        return await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<CompleteUploadResult> CompleteUploadAsync(string uploadId, StoredFile file, long projectQuotaBytes = long.MaxValue,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (await LockProjectOfUploadAsync(connection, tx, uploadId, cancellationToken).ConfigureAwait(false) is null)
            return CompleteUploadResult.Gone;
        // The quota once more, at the size the file really has: reservations make this hold, and a lowered quota is honoured.
        await using (var end = Sql.Command(connection, tx, $"DELETE FROM file_uploads WHERE upload_id = @upload AND {OthersUsed} + @size <= @quota",
                         ("@upload", uploadId), ("@project", file.ProjectId), ("@size", file.SizeBytes), ("@quota", projectQuotaBytes)))
            if (await end.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
                return CompleteUploadResult.QuotaExceeded;
        await using (var insert = Sql.Command(connection, tx, $"""
                         INSERT INTO files ({FileColumns})
                         VALUES (@project, @id, @display, @mime, @size, @sha, @state, @error, @created, @updated, @expires)
                         ON CONFLICT DO NOTHING
                         """, FileParameters(file)))
            if (await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
                return CompleteUploadResult.NameTaken;
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return CompleteUploadResult.Completed;
    }

    public async Task<int> BeginProcessingAsync(string projectId, string fileId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var update = Sql.Command(connection, null,
            "UPDATE files SET processing_attempts = processing_attempts + 1 WHERE project_id = @project AND id = @id RETURNING processing_attempts",
            ("@project", projectId), ("@id", fileId));
        return await update.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is { } attempts and not DBNull ? Convert.ToInt32(attempts) : 0;
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
        await using var query = Sql.Command(connection, null, $"SELECT {FileReadColumns} FROM files WHERE project_id = @project AND id = @id",
            ("@project", projectId), ("@id", fileId));
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadFile(reader) : null;
    }

    public async Task<IReadOnlyList<StoredFile>> ListAsync(string projectId, int limit, FileCursor? after, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var where = after is null ? "" : "AND (create_time < @afterTime OR (create_time = @afterTime AND id < @afterId))";
        await using var query = Sql.Command(connection, null,
            $"SELECT {FileReadColumns} FROM files WHERE project_id = @project {where} ORDER BY create_time DESC, id DESC LIMIT @limit",
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
        await using var query = Sql.Command(connection, null, $"SELECT {FileReadColumns} FROM files WHERE expiration_time <= @now ORDER BY expiration_time LIMIT @limit",
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
        await using var query = Sql.Command(connection, null, $"SELECT {FileReadColumns} FROM files WHERE state = @state ORDER BY create_time LIMIT @limit",
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

    /// <summary>Serializes the project's quota writers: SQLite's BEGIN IMMEDIATE already holds the write lock; PostgreSQL locks the project row.</summary>
    private async Task LockProjectAsync(DbConnection connection, DbTransaction tx, string projectId, CancellationToken cancellationToken)
    {
        if (Dialect != SqlDialect.Postgres) return;
        await using var lockProject = Sql.Command(connection, tx, "SELECT id FROM projects WHERE id = @p FOR UPDATE", ("@p", projectId));
        await lockProject.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The upload's project, locked as <see cref="LockProjectAsync"/> does; null when the session is gone.</summary>
    private async Task<string?> LockProjectOfUploadAsync(DbConnection connection, DbTransaction tx, string uploadId, CancellationToken cancellationToken)
    {
        var sql = Dialect == SqlDialect.Postgres
            ? "SELECT p.id FROM projects p JOIN file_uploads u ON u.project_id = p.id WHERE u.upload_id = @upload FOR UPDATE OF p"
            : "SELECT project_id FROM file_uploads WHERE upload_id = @upload";
        await using var query = Sql.Command(connection, tx, sql, ("@upload", uploadId));
        return await query.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
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
                 + (SELECT COALESCE(SUM(reserved_bytes), 0) FROM file_uploads WHERE project_id = @project)
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
        ParseState(r.GetString(6)), r.ReadNullableString(7), Dialect.ReadTime(r, 8), Dialect.ReadTime(r, 9), Dialect.ReadTime(r, 10))
    {
        ProcessingAttempts = r.GetInt32(11),
    };

    private UploadSession ReadUpload(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.ReadNullableString(3), r.GetString(4),
        r.IsDBNull(5) ? null : r.GetInt64(5), r.GetInt64(6), Dialect.ReadTime(r, 7), Dialect.ReadTime(r, 8))
    {
        ReservedBytes = r.GetInt64(9),
    };

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
