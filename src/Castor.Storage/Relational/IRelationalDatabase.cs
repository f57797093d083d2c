using System.Data.Common;

namespace Castor.Storage.Relational;

/// <summary>The SQL flavours Castor's stores speak; they differ only in how timestamps are stored.</summary>
public enum SqlDialect
{
    /// <summary>Timestamps as ISO-8601 UTC text of fixed width, so text order is time order.</summary>
    Sqlite,

    /// <summary>Timestamps as <c>timestamptz</c>.</summary>
    Postgres,
}

/// <summary>A migrated SQL database the stores open connections to: SQLite (embedded default) or PostgreSQL (shared).</summary>
public interface IRelationalDatabase
{
    SqlDialect Dialect { get; }

    /// <summary>Where the state lives, for the start-up banner (never includes a password).</summary>
    string Description { get; }

    Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken = default);

    /// <summary>Applies the numbered migration scripts not applied yet.</summary>
    Task MigrateAsync(CancellationToken cancellationToken = default);
}
