namespace Castor.Application.Files;

/// <summary>The Files API's limits; the defaults are the documented ones (2 GB a file, 20 GB a project, kept 48 hours).</summary>
public sealed class FileLimits
{
    public const long GiB = 1024L * 1024 * 1024;

    public long MaxFileBytes { get; init; } = 2 * GiB;
    public long ProjectQuotaBytes { get; init; } = 20 * GiB;
    public TimeSpan FileLifetime { get; init; } = TimeSpan.FromHours(48);

    /// <summary>How long an unfinished resumable upload may be resumed (Google keeps sessions for a week).</summary>
    public TimeSpan UploadLifetime { get; init; } = TimeSpan.FromDays(7);

    /// <summary>At most this much text from one file or inline part goes into a prompt; more could never fit a context window.</summary>
    public long MaxPromptTextBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>PDFs larger than this are not read (FAILED): the API stores "up to 50MB of PDF files" for prompting.</summary>
    public long MaxPdfBytes { get; init; } = 50L * 1024 * 1024;

    /// <summary>Bytes on disk that no row claims are removed only after this long, so an upload finishing right now is never touched.</summary>
    public TimeSpan OrphanGracePeriod { get; init; } = TimeSpan.FromMinutes(10);
}
