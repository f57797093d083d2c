namespace Castor.Application.Files;

/// <summary>
/// The Files API's limits and upkeep (the <c>Files</c> section: Files:MaxFileBytes, CASTOR_FILES__MAX_FILE_BYTES, …); the
/// defaults are the documented ones (2 GB a file, 20 GB a project, kept 48 hours).
/// </summary>
public sealed class FileLimits
{
    public const long GiB = 1024L * 1024 * 1024;

    public long MaxFileBytes { get; set; } = 2 * GiB;
    public long ProjectQuotaBytes { get; set; } = 20 * GiB;
    public TimeSpan FileLifetime { get; set; } = TimeSpan.FromHours(48);

    /// <summary>How long an unfinished resumable upload may be resumed at most (Google keeps sessions for a week).</summary>
    public TimeSpan UploadLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// An upload session expires this long after it started or after its last chunk, whichever is later (and never past
    /// <see cref="UploadLifetime"/>): an empty or abandoned session does not hold a slot, a reservation and a row for a week.
    /// </summary>
    public TimeSpan UploadIdleTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Unexpired upload sessions one project may have open at once; one more start is refused with 429 RESOURCE_EXHAUSTED.</summary>
    public int MaxOpenUploads { get; set; } = 100;

    /// <summary>At most this much text from one file or inline part goes into a prompt; more could never fit a context window.</summary>
    public long MaxPromptTextBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>PDFs larger than this are not read (FAILED): the API stores "up to 50MB of PDF files" for prompting.</summary>
    public long MaxPdfBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>PDFs with more pages are not read: the API reads documents of up to 1,000 pages.</summary>
    public int MaxPdfPages { get; set; } = 1000;

    /// <summary>
    /// Bytes that one PDF's compressed streams may decode to, all streams together: the compressed size says nothing about
    /// memory (300 KB of deflate can hold 300 MB), so decoding stops, and the PDF is refused, past this many.
    /// </summary>
    public long MaxPdfDecodedBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>PDFs parsed at once, uploads and inline parts together; more wait their turn (parsing is CPU and memory heavy).</summary>
    public int MaxConcurrentPdfParses { get; set; } = 2;

    /// <summary>How often expired files, expired uploads and orphaned bytes are removed.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Bytes on disk that no row claims are removed only after this long, so an upload finishing right now is never touched.</summary>
    public TimeSpan OrphanGracePeriod { get; set; } = TimeSpan.FromMinutes(10);
}
