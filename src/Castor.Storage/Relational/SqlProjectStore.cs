using Castor.Storage.Quotas;

namespace Castor.Storage.Relational;

/// <summary>Projects and their usage tiers in SQLite or PostgreSQL (the <c>projects</c> table that keys belong to).</summary>
public sealed class SqlProjectStore(IRelationalDatabase database) : IProjectStore
{
    private SqlDialect Dialect => database.Dialect;

    public async Task<bool> CreateProjectAsync(string name, string? tier, DateTimeOffset createdAt, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var insert = Sql.Command(connection, null,
            "INSERT INTO projects (id, name, created_at, tier) VALUES (@id, @name, @created, @tier) ON CONFLICT DO NOTHING",
            ("@id", "p-" + Guid.NewGuid().ToString("N")[..16]), ("@name", name), ("@created", Dialect.Time(createdAt)), ("@tier", tier));
        return await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<IReadOnlyList<ProjectListing>> ListProjectsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, """
            SELECT p.id, p.name, p.tier, p.created_at,
                   (SELECT COUNT(*) FROM api_keys k WHERE k.project_id = p.id AND k.revoked_at IS NULL)
            FROM projects p ORDER BY p.name
            """);
        var list = new List<ProjectListing>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new ProjectListing(reader.GetString(0), reader.GetString(1), reader.ReadNullableString(2), Dialect.ReadTime(reader, 3),
                Convert.ToInt32(reader.GetValue(4), System.Globalization.CultureInfo.InvariantCulture)));
        }
        return list;
    }

    public async Task<bool> SetTierAsync(string name, string? tier, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var update = Sql.Command(connection, null, "UPDATE projects SET tier = @tier WHERE name = @name", ("@name", name), ("@tier", tier));
        return await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<string?> GetTierAsync(string projectId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var query = Sql.Command(connection, null, "SELECT tier FROM projects WHERE id = @id", ("@id", projectId));
        return await query.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }
}
