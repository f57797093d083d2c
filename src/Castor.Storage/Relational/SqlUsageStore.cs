using Castor.Storage.Metering;

namespace Castor.Storage.Relational;

/// <summary>Hourly usage rows in SQLite or PostgreSQL: the same upsert on both, which adds to a row rather than replacing it.</summary>
public sealed class SqlUsageStore(IRelationalDatabase database) : IUsageStore
{
    private SqlDialect Dialect => database.Dialect;

    public async Task AddAsync(IReadOnlyCollection<KeyValuePair<UsageBucket, UsageCounts>> counts, CancellationToken cancellationToken = default)
    {
        if (counts.Count == 0) return;
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (bucket, c) in counts)
        {
            // Two nodes flushing the same bucket both add: the conflict clause sums instead of overwriting.
            await using var upsert = Sql.Command(connection, tx, """
                INSERT INTO usage_hours (hour, project_id, key_id, model, method, batch, status, requests, prompt_tokens,
                    cached_content_tokens, candidates_tokens, thoughts_tokens, prompt_text_tokens, prompt_image_tokens,
                    prompt_audio_tokens, latency_ms, tool_use_prompt_tokens)
                VALUES (@hour, @project, @key, @model, @method, @batch, @status, @requests, @prompt, @cached, @candidates,
                    @thoughts, @text, @image, @audio, @latency, @toolUse)
                ON CONFLICT (hour, project_id, key_id, model, method, batch, status) DO UPDATE SET
                    requests = usage_hours.requests + excluded.requests,
                    prompt_tokens = usage_hours.prompt_tokens + excluded.prompt_tokens,
                    cached_content_tokens = usage_hours.cached_content_tokens + excluded.cached_content_tokens,
                    candidates_tokens = usage_hours.candidates_tokens + excluded.candidates_tokens,
                    thoughts_tokens = usage_hours.thoughts_tokens + excluded.thoughts_tokens,
                    prompt_text_tokens = usage_hours.prompt_text_tokens + excluded.prompt_text_tokens,
                    prompt_image_tokens = usage_hours.prompt_image_tokens + excluded.prompt_image_tokens,
                    prompt_audio_tokens = usage_hours.prompt_audio_tokens + excluded.prompt_audio_tokens,
                    latency_ms = usage_hours.latency_ms + excluded.latency_ms,
                    tool_use_prompt_tokens = usage_hours.tool_use_prompt_tokens + excluded.tool_use_prompt_tokens
                """,
                ("@hour", Dialect.Time(UsageBucket.HourOf(bucket.Hour))), ("@project", bucket.ProjectId), ("@key", bucket.KeyId),
                ("@model", bucket.Model), ("@method", bucket.Method), ("@batch", bucket.Batch), ("@status", bucket.Status),
                ("@requests", c.Requests), ("@prompt", c.PromptTokens), ("@cached", c.CachedContentTokens),
                ("@candidates", c.CandidatesTokens), ("@thoughts", c.ThoughtsTokens), ("@text", c.PromptTextTokens),
                ("@image", c.PromptImageTokens), ("@audio", c.PromptAudioTokens), ("@latency", c.LatencyMilliseconds),
                ("@toolUse", c.ToolUsePromptTokens));
            await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<UsageTotal>> ReadAsync(UsageQuery query, CancellationToken cancellationToken = default)
    {
        var group = query.By switch
        {
            UsageDimension.Model => "u.model",
            UsageDimension.Key => "u.key_id",
            UsageDimension.Method => "u.method",
            UsageDimension.Status => "u.status",
            UsageDimension.Project => "COALESCE(p.name, u.project_id)",
            UsageDimension.Day => Dialect == SqlDialect.Sqlite ? "substr(u.hour, 1, 10)" : "to_char(u.hour AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
            _ => throw new ArgumentOutOfRangeException(nameof(query), query.By, "Unknown usage dimension."),
        };
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // SUM over bigint is numeric on PostgreSQL: the casts keep every column a 64-bit integer on both databases.
        await using var command = Sql.Command(connection, null, $"""
            SELECT {group}, u.model, u.batch, CAST(SUM(u.requests) AS BIGINT), CAST(SUM(u.prompt_tokens) AS BIGINT),
                CAST(SUM(u.cached_content_tokens) AS BIGINT), CAST(SUM(u.candidates_tokens) AS BIGINT),
                CAST(SUM(u.thoughts_tokens) AS BIGINT), CAST(SUM(u.prompt_text_tokens) AS BIGINT),
                CAST(SUM(u.prompt_image_tokens) AS BIGINT), CAST(SUM(u.prompt_audio_tokens) AS BIGINT),
                CAST(SUM(u.latency_ms) AS BIGINT), CAST(SUM(CASE WHEN u.status <> 'OK' THEN u.requests ELSE 0 END) AS BIGINT),
                CAST(SUM(u.tool_use_prompt_tokens) AS BIGINT)
            FROM usage_hours u LEFT JOIN projects p ON p.id = u.project_id
            WHERE u.hour >= @since AND u.hour < @until AND (@project IS NULL OR p.name = @project)
            GROUP BY {group}, u.model, u.batch
            ORDER BY 1, 2, 3
            """,
            ("@since", Dialect.Time(UsageBucket.HourOf(query.Since))), ("@until", Dialect.Time(query.Until)), ("@project", query.ProjectName));
        var totals = new List<UsageTotal>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var counts = new UsageCounts(reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7),
                reader.GetInt64(8), reader.GetInt64(9), reader.GetInt64(10), reader.GetInt64(11)) { ToolUsePromptTokens = reader.GetInt64(13) };
            totals.Add(new UsageTotal(reader.GetString(0), reader.GetString(1), reader.GetBoolean(2), counts, reader.GetInt64(12)));
        }
        return totals;
    }
}
