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

    /// <summary>Unexpired upload sessions one project may hold (Files:MaxOpenUploads, CASTOR_FILES__MAX_OPEN_UPLOADS); the next start gets 429.</summary>
    public int MaxOpenUploads { get; set; } = 100;

    /// <summary>An upload session expires this long after its start or last chunk (Files:UploadIdleTimeout, CASTOR_FILES__UPLOAD_IDLE_TIMEOUT).</summary>
    public TimeSpan UploadIdleTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Pages a PDF may have to be read (Files:MaxPdfPages, CASTOR_FILES__MAX_PDF_PAGES).</summary>
    public int MaxPdfPages { get; set; } = 1000;

    /// <summary>Bytes one PDF's compressed streams may decode to (Files:MaxPdfDecodedBytes, CASTOR_FILES__MAX_PDF_DECODED_BYTES).</summary>
    public long MaxPdfDecodedBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>PDFs parsed at once, uploads and inline parts together (Files:MaxConcurrentPdfParses, CASTOR_FILES__MAX_CONCURRENT_PDF_PARSES).</summary>
    public int MaxConcurrentPdfParses { get; set; } = 2;
}
