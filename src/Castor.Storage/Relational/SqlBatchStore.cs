using System.Data.Common;
using System.Runtime.CompilerServices;
using Castor.Storage.Batches;
using Castor.Storage.Files;

namespace Castor.Storage.Relational;

/// <summary>
/// Batch jobs in SQLite or PostgreSQL (the same statements; timestamps per dialect). Claims run in one transaction: SQLite
/// takes the write lock up front, PostgreSQL locks the chosen rows and skips rows another node has locked, so two nodes
/// never claim the same request.
/// </summary>
public sealed class SqlBatchStore(IRelationalDatabase database) : IBatchStore
{
    private const string BatchColumns =
        "id, project_id, kind, dialect, model, display_name, input_file, output_file, state, error_message, request_count, finalized, create_time, update_time, end_time, expire_time";

    private const string Open = "('PENDING', 'RUNNING')";

    private SqlDialect Dialect => database.Dialect;

    // PostgreSQL: rows another transaction holds are skipped rather than waited for (another node is claiming them).
    private string SkipLocked(string table) => Dialect == SqlDialect.Postgres ? $" FOR UPDATE OF {table} SKIP LOCKED" : "";

    public async Task<StoredBatch> CreateAsync(StoredBatch batch, IAsyncEnumerable<NewBatchRequest> requests, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var insert = Sql.Command(connection, tx, $"""
                         INSERT INTO batches ({BatchColumns}, submitter_key_id)
                         VALUES (@id, @project, @kind, @dialect, @model, @display, @input, NULL, @state, NULL, 0, 0, @created, @created, NULL, @expires, @submitter)
                         """,
                         ("@submitter", batch.SubmitterKeyId), ("@id", batch.Id), ("@project", batch.ProjectId), ("@kind", batch.Kind), ("@dialect", batch.Dialect), ("@model", batch.Model),
                         ("@display", batch.DisplayName), ("@input", batch.InputFile), ("@state", StateName(batch.State)),
                         ("@created", Dialect.Time(batch.CreateTime)), ("@expires", Dialect.Time(batch.ExpireTime))))
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

        // One command, its parameters reset per row: a 2 GB file is millions of rows in this one transaction.
        await using var row = Sql.Command(connection, tx, """
            INSERT INTO batch_requests (batch_id, position, request_key, metadata, request, state, result, finish_time, enqueued_tokens, enqueued_model)
            VALUES (@batch, @position, @key, @metadata, @request, @state, @result, @finished, @tokens, @tokensModel)
            """, ("@batch", batch.Id), ("@position", 0L), ("@key", null), ("@metadata", null), ("@request", null), ("@state", ""), ("@result", null),
            ("@finished", null), ("@tokens", Sql.Int64(null)), ("@tokensModel", null));
        long count = 0;
        await foreach (var request in requests.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            row.Parameters["@position"].Value = count;
            row.Parameters["@key"].Value = (object?)request.Key ?? DBNull.Value;
            row.Parameters["@metadata"].Value = (object?)request.Metadata ?? DBNull.Value;
            row.Parameters["@request"].Value = (object?)request.Request ?? DBNull.Value;
            row.Parameters["@state"].Value = request.Error is null ? "PENDING" : "FAILED";
            row.Parameters["@result"].Value = (object?)request.Error ?? DBNull.Value;
            row.Parameters["@tokens"].Value = request.EnqueuedTokens is { } tokens ? tokens : DBNull.Value;
            row.Parameters["@tokensModel"].Value = (object?)request.EnqueuedModel ?? DBNull.Value;
            SetTime(row.Parameters["@finished"], request.Error is null ? null : batch.CreateTime);
            await row.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            count++;
        }
        await using (var total = Sql.Command(connection, tx, "UPDATE batches SET request_count = @count WHERE id = @id", ("@count", count), ("@id", batch.Id)))
            await total.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return batch with { RequestCount = count };
    }

    public async Task<StoredBatch?> GetAsync(string projectId, string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, $"SELECT {BatchColumns} FROM batches WHERE project_id = @project AND id = @id",
            ("@project", projectId), ("@id", id));
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadBatch(reader) : null;
    }

    public async Task<IReadOnlyList<StoredBatch>> ListAsync(string projectId, int limit, BatchCursor? after, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = after is null
            ? Sql.Command(connection, null, $"SELECT {BatchColumns} FROM batches WHERE project_id = @project ORDER BY create_time DESC, id DESC LIMIT @limit",
                ("@project", projectId), ("@limit", limit))
            : Sql.Command(connection, null, $"""
                SELECT {BatchColumns} FROM batches WHERE project_id = @project AND (create_time < @time OR (create_time = @time AND id < @id))
                ORDER BY create_time DESC, id DESC LIMIT @limit
                """, ("@project", projectId), ("@time", Dialect.Time(after.CreateTime)), ("@id", after.Id), ("@limit", limit));
        var list = new List<StoredBatch>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) list.Add(ReadBatch(reader));
        return list;
    }

    public async Task<StoredBatch?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, $"SELECT {BatchColumns} FROM batches WHERE id = @id", ("@id", id));
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadBatch(reader) : null;
    }

    public async Task<IReadOnlyList<StoredBatch>> ListAllAsync(int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, $"SELECT {BatchColumns} FROM batches ORDER BY create_time DESC, id DESC LIMIT @limit", ("@limit", limit));
        var list = new List<StoredBatch>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) list.Add(ReadBatch(reader));
        return list;
    }

    public async Task<BatchCounts> CountAsync(string batchId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, """
            SELECT state, COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(output_tokens), 0) FROM batch_requests WHERE batch_id = @id GROUP BY state
            """, ("@id", batchId));
        long succeeded = 0, failed = 0, pending = 0, prompt = 0, output = 0;
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var count = reader.GetInt64(1);
            switch (reader.GetString(0))
            {
                case "SUCCEEDED": succeeded = count; break;
                case "FAILED": failed = count; break;
                default: pending = count; break;
            }
            prompt += reader.GetInt64(2);
            output += reader.GetInt64(3);
        }
        return new BatchCounts(succeeded, failed, pending, prompt, output);
    }

    public async Task<StoredBatch?> CancelAsync(string projectId, string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using (var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        await using (var cancel = Sql.Command(connection, null, $"""
                         UPDATE batches SET state = 'CANCELLED', end_time = @now, update_time = @now
                         WHERE project_id = @project AND id = @id AND state IN {Open} AND finalized = 0
                         """, ("@project", projectId), ("@id", id), ("@now", Dialect.Time(now))))
            await cancel.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return await GetAsync(projectId, id, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> DeleteAsync(string projectId, string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // Requests first (explicitly, so it does not depend on foreign keys being enforced), then the job.
        await using (var requests = Sql.Command(connection, tx,
                         "DELETE FROM batch_requests WHERE batch_id = @id AND EXISTS (SELECT 1 FROM batches WHERE id = @id AND project_id = @project)",
                         ("@project", projectId), ("@id", id)))
            await requests.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await using var delete = Sql.Command(connection, tx, "DELETE FROM batches WHERE project_id = @project AND id = @id", ("@project", projectId), ("@id", id));
        var deleted = await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return deleted;
    }

    public async Task<int> ExpireAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var expire = Sql.Command(connection, null, $"""
            UPDATE batches SET state = 'EXPIRED', end_time = @now, update_time = @now
            WHERE state IN {Open} AND finalized = 0 AND expire_time <= @now
            """, ("@now", Dialect.Time(now)));
        return await expire.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ClaimedBatchRequest>> ClaimAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int limit,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var claimed = new List<ClaimedBatchRequest>();
        await using (var select = Sql.Command(connection, tx, $"""
                         SELECT r.batch_id, r.position, r.request, r.attempts, b.project_id, b.kind, b.dialect, b.model, r.request_key, b.input_file, b.submitter_key_id
                         FROM batch_requests r JOIN batches b ON b.id = r.batch_id
                         WHERE b.state IN {Open} AND b.finalized = 0 AND r.state = 'PENDING' AND (r.lease_until IS NULL OR r.lease_until < @now)
                         ORDER BY b.create_time, r.batch_id, r.position
                         LIMIT @limit{SkipLocked("r")}
                         """, ("@now", Dialect.Time(now)), ("@limit", limit)))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                claimed.Add(new ClaimedBatchRequest(new BatchRequestId(reader.GetString(0), reader.GetInt64(1)), reader.GetString(4), reader.GetString(5),
                    reader.GetString(6), reader.GetString(7), reader.GetString(2), reader.GetInt32(3) + 1, reader.ReadNullableString(8), !reader.IsDBNull(9))
                    { SubmitterKeyId = reader.ReadNullableString(10) });
        if (claimed.Count == 0) return claimed;

        await using (var lease = Sql.Command(connection, tx, """
                         UPDATE batch_requests SET lease_owner = @owner, lease_until = @until, attempts = attempts + 1
                         WHERE batch_id = @batch AND position = @position AND state = 'PENDING' AND (lease_until IS NULL OR lease_until < @now)
                         """, ("@owner", owner), ("@until", Dialect.Time(leaseUntil)), ("@now", Dialect.Time(now)), ("@batch", ""), ("@position", 0L)))
        {
            foreach (var request in claimed)
            {
                lease.Parameters["@batch"].Value = request.Id.BatchId;
                lease.Parameters["@position"].Value = request.Id.Position;
                await lease.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        await using (var running = Sql.Command(connection, tx, "UPDATE batches SET state = 'RUNNING', update_time = @now WHERE id = @batch AND state = 'PENDING'",
                         ("@now", Dialect.Time(now)), ("@batch", "")))
        {
            foreach (var batchId in claimed.Select(c => c.Id.BatchId).Distinct())
            {
                running.Parameters["@batch"].Value = batchId;
                await running.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return claimed;
    }

    public async Task RenewAsync(string owner, IReadOnlyList<BatchRequestId> requests, DateTimeOffset leaseUntil, CancellationToken cancellationToken = default)
    {
        if (requests.Count == 0) return;
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var renew = Sql.Command(connection, tx, """
            UPDATE batch_requests SET lease_until = @until WHERE batch_id = @batch AND position = @position AND lease_owner = @owner AND state = 'PENDING'
            """, ("@until", Dialect.Time(leaseUntil)), ("@owner", owner), ("@batch", ""), ("@position", 0L));
        foreach (var request in requests)
        {
            renew.Parameters["@batch"].Value = request.BatchId;
            renew.Parameters["@position"].Value = request.Position;
            await renew.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    // lease_owner stays on a finished request: it records which node ran it.
    public async Task<bool> CompleteRequestAsync(string owner, BatchRequestId request, BatchRequestResult result, DateTimeOffset now,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var complete = Sql.Command(connection, tx, """
                         UPDATE batch_requests SET state = @state, result = @result, prompt_tokens = @prompt, output_tokens = @output, finish_time = @now,
                                                   lease_until = NULL
                         WHERE batch_id = @batch AND position = @position AND state = 'PENDING' AND lease_owner = @owner
                         """, ("@state", result.Succeeded ? "SUCCEEDED" : "FAILED"), ("@result", result.Json), ("@prompt", result.PromptTokens),
                         ("@output", result.OutputTokens), ("@now", Dialect.Time(now)), ("@batch", request.BatchId), ("@position", request.Position),
                         ("@owner", owner)))
            if (await complete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
                return false;
        await using (var touch = Sql.Command(connection, tx, "UPDATE batches SET update_time = @now WHERE id = @batch",
                         ("@now", Dialect.Time(now)), ("@batch", request.BatchId)))
            await touch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<IReadOnlyList<StoredBatch>> ClaimFinalizeAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int limit,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var ids = new List<string>();
        await using (var select = Sql.Command(connection, tx, $"""
                         SELECT b.id FROM batches b
                         WHERE b.finalized = 0 AND (b.lease_until IS NULL OR b.lease_until < @now)
                           AND (b.state NOT IN {Open} OR NOT EXISTS (SELECT 1 FROM batch_requests r WHERE r.batch_id = b.id AND r.state = 'PENDING'))
                         ORDER BY b.create_time LIMIT @limit{SkipLocked("b")}
                         """, ("@now", Dialect.Time(now)), ("@limit", limit)))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) ids.Add(reader.GetString(0));

        var claimed = new List<StoredBatch>();
        foreach (var id in ids)
        {
            await using (var lease = Sql.Command(connection, tx, """
                             UPDATE batches SET lease_owner = @owner, lease_until = @until
                             WHERE id = @id AND finalized = 0 AND (lease_until IS NULL OR lease_until < @now)
                             """, ("@owner", owner), ("@until", Dialect.Time(leaseUntil)), ("@now", Dialect.Time(now)), ("@id", id)))
                if (await lease.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
                    continue;
            await using var read = Sql.Command(connection, tx, $"SELECT {BatchColumns} FROM batches WHERE id = @id", ("@id", id));
            await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) claimed.Add(ReadBatch(reader));
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return claimed;
    }

    public async IAsyncEnumerable<StoredBatchRequest> ReadRequestsAsync(string batchId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null,
            "SELECT position, request_key, metadata, state, result FROM batch_requests WHERE batch_id = @id ORDER BY position", ("@id", batchId));
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            yield return new StoredBatchRequest(reader.GetInt64(0), reader.ReadNullableString(1), reader.ReadNullableString(2),
                reader.GetString(3) switch { "SUCCEEDED" => BatchRequestState.Succeeded, "FAILED" => BatchRequestState.Failed, _ => BatchRequestState.Pending },
                reader.ReadNullableString(4));
    }

    public async Task<bool> FinalizeAsync(string owner, string batchId, StoredFile? outputFile, BatchState endState, DateTimeOffset now,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var end = Sql.Command(connection, tx, $"""
                         UPDATE batches SET finalized = 1, output_file = @output, lease_owner = NULL, lease_until = NULL, update_time = @now,
                                            end_time = COALESCE(end_time, @now), state = CASE WHEN state IN {Open} THEN @state ELSE state END
                         WHERE id = @id AND lease_owner = @owner AND finalized = 0
                         """, ("@output", outputFile is null ? null : "files/" + outputFile.Id), ("@now", Dialect.Time(now)),
                         ("@state", StateName(endState)), ("@id", batchId), ("@owner", owner)))
            if (await end.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
                return false;
        if (outputFile is { } f)
        {
            // The file row appears with the job's end, in one commit: a listed output file is always whole.
            await using var insert = Sql.Command(connection, tx, """
                INSERT INTO files (project_id, id, display_name, mime_type, size_bytes, sha256, state, error_message, create_time, update_time, expiration_time)
                VALUES (@project, @id, @display, @mime, @size, @sha, 'ACTIVE', NULL, @created, @created, @expires)
                ON CONFLICT DO NOTHING
                """, ("@project", f.ProjectId), ("@id", f.Id), ("@display", f.DisplayName), ("@mime", f.MimeType), ("@size", f.SizeBytes),
                ("@sha", f.Sha256), ("@created", Dialect.Time(f.CreateTime)), ("@expires", Dialect.Time(f.ExpirationTime)));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private void SetTime(DbParameter parameter, DateTimeOffset? time)
    {
        parameter.DbType = Dialect == SqlDialect.Postgres ? System.Data.DbType.DateTimeOffset : System.Data.DbType.String;
        parameter.Value = time is { } t ? Dialect.Time(t) : DBNull.Value;
    }

    private StoredBatch ReadBatch(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.ReadNullableString(5), r.ReadNullableString(6),
        r.ReadNullableString(7), ParseState(r.GetString(8)), r.ReadNullableString(9), r.GetInt64(10), r.GetInt32(11) != 0,
        Dialect.ReadTime(r, 12), Dialect.ReadTime(r, 13), Dialect.ReadNullableTime(r, 14), Dialect.ReadTime(r, 15));

    private static string StateName(BatchState state) => state switch
    {
        BatchState.Pending => "PENDING",
        BatchState.Running => "RUNNING",
        BatchState.Succeeded => "SUCCEEDED",
        BatchState.Failed => "FAILED",
        BatchState.Cancelled => "CANCELLED",
        _ => "EXPIRED",
    };

    private static BatchState ParseState(string name) => name switch
    {
        "PENDING" => BatchState.Pending,
        "RUNNING" => BatchState.Running,
        "SUCCEEDED" => BatchState.Succeeded,
        "FAILED" => BatchState.Failed,
        "CANCELLED" => BatchState.Cancelled,
        _ => BatchState.Expired,
    };
}
