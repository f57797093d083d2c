using System.Globalization;
using Castor.Storage.Quotas;

namespace Castor.Storage.Relational;

/// <summary>The waiting requests of a project's open batch jobs, summed in SQLite or PostgreSQL.</summary>
public sealed class SqlBatchBacklogStore(IRelationalDatabase database) : IBatchBacklogStore
{
    public async Task<long> EnqueuedTokensAsync(string projectId, string modelId, string storedModel, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, """
            SELECT COALESCE(SUM(COALESCE(r.enqueued_tokens, (LENGTH(r.request) + 3) / 4)), 0)
            FROM batch_requests r JOIN batches b ON b.id = r.batch_id
            WHERE b.project_id = @project AND b.state IN ('PENDING', 'RUNNING') AND r.state = 'PENDING'
              AND (r.enqueued_model = @modelId OR (r.enqueued_model IS NULL AND b.model = @model))
            """, ("@project", projectId), ("@modelId", modelId), ("@model", storedModel));
        return Convert.ToInt64(await query.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }
}
