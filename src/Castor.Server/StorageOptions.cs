namespace Castor.Server;

/// <summary>Where state lives: SQLite under the data folder (default), or PostgreSQL when a connection string is set.</summary>
public sealed class StorageOptions
{
    /// <summary>
    /// An Npgsql connection string (<c>Host=…;Database=…;Username=…;Password=…</c>); set it (<c>CASTOR_STORAGE__POSTGRES</c>)
    /// for nodes that share projects, keys and file metadata. File bytes stay under <c>Data/files</c>, which such nodes must share.
    /// </summary>
    public string? Postgres { get; set; }
}

/// <summary>The Files API's limits and upkeep; the defaults are the API's.</summary>
public sealed class FilesOptions
{
    public long MaxFileBytes { get; set; } = 2L * 1024 * 1024 * 1024;
    public long ProjectQuotaBytes { get; set; } = 20L * 1024 * 1024 * 1024;
    public TimeSpan FileLifetime { get; set; } = TimeSpan.FromHours(48);

    /// <summary>How often expired files, expired uploads and orphaned bytes are removed.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(5);
}
