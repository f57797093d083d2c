using System.Globalization;
using System.Text;
using Castor.Storage.Quotas;

namespace Castor.Storage.Relational;

/// <summary>
/// Rate-limit counters in SQLite or PostgreSQL: one multi-row <c>INSERT … ON CONFLICT … DO UPDATE … RETURNING</c> per
/// request, atomic per row in both databases, so concurrent requests (and servers) each see a distinct running total.
/// </summary>
public sealed class SqlQuotaCounterStore(IRelationalDatabase database) : IQuotaCounterStore
{
    public async Task<long[]> AddAsync(IReadOnlyList<QuotaCounterDelta> deltas, CancellationToken cancellationToken = default)
    {
        if (deltas.Count == 0) return [];
        // Rows are locked in one order by every statement (PostgreSQL locks them as it upserts), so two requests of
        // one project never wait for each other in a cycle.
        var order = Enumerable.Range(0, deltas.Count)
            .OrderBy(i => deltas[i].Metric, StringComparer.Ordinal).ThenBy(i => deltas[i].WindowStart).ThenBy(i => deltas[i].Model, StringComparer.Ordinal)
            .ToArray();
        var text = new StringBuilder("INSERT INTO quota_counters (project_id, model, metric, window_start, used) VALUES ");
        var parameters = new List<(string, object?)>();
        for (var n = 0; n < order.Length; n++)
        {
            var d = deltas[order[n]];
            var p = n.ToString(CultureInfo.InvariantCulture);
            text.Append(n == 0 ? "" : ", ").Append($"(@p{p}, @m{p}, @k{p}, @w{p}, @a{p})");
            parameters.Add(("@p" + p, d.ProjectId));
            parameters.Add(("@m" + p, d.Model));
            parameters.Add(("@k" + p, d.Metric));
            parameters.Add(("@w" + p, d.WindowStart));
            parameters.Add(("@a" + p, d.Amount));
        }
        text.Append("""
             ON CONFLICT (project_id, model, metric, window_start) DO UPDATE SET used = quota_counters.used + excluded.used
            RETURNING project_id, model, metric, window_start, used
            """);

        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection, null, text.ToString(), [.. parameters]);
        var totals = new long[deltas.Count];
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var (project, model, metric, window) = (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3));
            for (var i = 0; i < deltas.Count; i++)
            {
                var d = deltas[i];
                if (d.ProjectId == project && d.Model == model && d.Metric == metric && d.WindowStart == window)
                    totals[i] = reader.GetInt64(4);
            }
        }
        return totals;
    }

    public async Task<int> DeleteBeforeAsync(long windowStart, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var delete = Sql.Command(connection, null, "DELETE FROM quota_counters WHERE window_start < @w", ("@w", windowStart));
        return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
