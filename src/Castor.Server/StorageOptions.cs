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
