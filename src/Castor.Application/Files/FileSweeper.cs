using Castor.Storage.Files;
using Microsoft.Extensions.Logging;

namespace Castor.Application.Files;

/// <summary>
/// Deletes expired files (row, then bytes) and expired upload sessions (row, then part file), and removes bytes on disk
/// that no row claims: left by a crash between a row's deletion and its bytes', or by an upload that never started.
/// </summary>
public sealed class FileSweeper(IFileStore store, FileContentStore content, FileService files, FileLimits limits, ILogger<FileSweeper> logger)
{
    private const int Batch = 500;

    public async Task<SweepResult> SweepAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        int expiredFiles = 0, expiredUploads = 0, orphans = 0;
        while (true)
        {
            var batch = await store.ExpiredFilesAsync(now, Batch, cancellationToken).ConfigureAwait(false);
            foreach (var file in batch)
            {
                if (!await store.DeleteAsync(file.ProjectId, file.Id, cancellationToken).ConfigureAwait(false)) continue;
                Try(() => content.DeleteFile(file.ProjectId, file.Id));
                expiredFiles++;
            }
            if (batch.Count < Batch) break;
        }
        while (true)
        {
            var batch = await store.ExpiredUploadsAsync(now, Batch, cancellationToken).ConfigureAwait(false);
            foreach (var upload in batch)
            {
                if (!await store.DeleteUploadAsync(upload.UploadId, cancellationToken).ConfigureAwait(false)) continue;
                Try(() => content.DeletePart(upload.ProjectId, upload.UploadId));
                files.ForgetUpload(upload.UploadId);
                expiredUploads++;
            }
            if (batch.Count < Batch) break;
        }

        // Bytes are orphans only when no row claims them in one consistent read, and they are older than the grace
        // period, so an upload between writing its bytes and committing its row is never mistaken for one.
        foreach (var bytes in content.Enumerate().ToList())
        {
            var written = new DateTimeOffset(File.GetLastWriteTimeUtc(bytes.Path), TimeSpan.Zero);
            if (written > now - limits.OrphanGracePeriod) continue;
            var claimed = bytes.Kind == StoredBytesKind.Part
                ? await store.UploadExistsAsync(bytes.Id, cancellationToken).ConfigureAwait(false)
                : await store.IsClaimedAsync(bytes.ProjectId, bytes.Id, cancellationToken).ConfigureAwait(false);
            if (claimed) continue;
            Try(() => File.Delete(bytes.Path));
            orphans++;
        }

        if (expiredFiles + expiredUploads + orphans > 0)
            logger.LogInformation("Swept {Files} expired files, {Uploads} expired uploads and {Orphans} orphaned byte files", expiredFiles, expiredUploads, orphans);
        return new SweepResult(expiredFiles, expiredUploads, orphans);
    }

    private void Try(Action delete)
    {
        try
        {
            delete();
        }
        catch (IOException ex)
        {
            logger.LogWarning(ex, "Could not delete swept bytes; the next sweep retries");
        }
    }
}

public sealed record SweepResult(int ExpiredFiles, int ExpiredUploads, int OrphanedBytes);
