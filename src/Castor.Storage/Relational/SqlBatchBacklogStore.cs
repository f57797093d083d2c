using System.Globalization;
using Castor.Storage.Quotas;

namespace Castor.Storage.Relational;

/// <summary>The waiting requests of a project's open batch jobs, summed in SQLite or PostgreSQL.</summary>
public sealed class SqlBatchBacklogStore(IRelationalDatabase database) : IBatchBacklogStore
{
    public async Task<long> EnqueuedRequestCharactersAsync(string projectId, string model, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, """
            SELECT COALESCE(SUM(LENGTH(r.request)), 0) FROM batch_requests r JOIN batches b ON b.id = r.batch_id
            WHERE b.project_id = @project AND b.model = @model AND b.state IN ('PENDING', 'RUNNING') AND r.state = 'PENDING'
            """, ("@project", projectId), ("@model", model));
        return Convert.ToInt64(await query.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }
}
