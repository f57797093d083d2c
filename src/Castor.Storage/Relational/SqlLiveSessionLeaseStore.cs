using System.Globalization;
using Castor.Storage.Quotas;

namespace Castor.Storage.Relational;

/// <summary>
/// Live session leases in SQLite or PostgreSQL. The count and the insert run in one transaction that concurrent
/// admissions for the same project and model cannot interleave: SQLite's transactions take the write lock when they
/// begin (BEGIN IMMEDIATE), and PostgreSQL's take an advisory lock on the project and model first.
/// </summary>
public sealed class SqlLiveSessionLeaseStore(IRelationalDatabase database) : ILiveSessionLeaseStore
{
    public async Task<bool> TryAcquireAsync(LiveSessionLease lease, int limit, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (database.Dialect == SqlDialect.Postgres)
        {
            await using var gate = Sql.Command(connection, tx, "SELECT pg_advisory_xact_lock(hashtext(@project), hashtext(@model))",
                ("@project", lease.ProjectId), ("@model", lease.Model));
            await gate.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        // Leases their nodes stopped renewing hold nothing any more.
        await using (var sweep = Sql.Command(connection, tx, "DELETE FROM live_session_leases WHERE project_id = @project AND model = @model AND expires_at <= @now",
                         ("@project", lease.ProjectId), ("@model", lease.Model), ("@now", now.ToUnixTimeMilliseconds())))
            await sweep.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await using (var count = Sql.Command(connection, tx, "SELECT COUNT(*) FROM live_session_leases WHERE project_id = @project AND model = @model",
                         ("@project", lease.ProjectId), ("@model", lease.Model)))
        {
            if (Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) >= limit)
                return false;
        }
        await using (var insert = Sql.Command(connection, tx, "INSERT INTO live_session_leases (id, project_id, model, expires_at) VALUES (@id, @project, @model, @expires)",
                         ("@id", lease.Id), ("@project", lease.ProjectId), ("@model", lease.Model), ("@expires", lease.ExpiresAt.ToUnixTimeMilliseconds())))
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<bool> RenewAsync(string id, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var update = Sql.Command(connection, null, "UPDATE live_session_leases SET expires_at = @expires WHERE id = @id",
            ("@id", id), ("@expires", expiresAt.ToUnixTimeMilliseconds()));
        return await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task ReleaseAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var delete = Sql.Command(connection, null, "DELETE FROM live_session_leases WHERE id = @id", ("@id", id));
        await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
