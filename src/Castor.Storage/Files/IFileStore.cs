namespace Castor.Storage.Files;

/// <summary>
/// Metadata of uploaded files and of resumable upload sessions. A file's row is written only once its bytes are
/// complete on disk (in the same transaction that ends its upload session), so a listed file is always whole.
/// </summary>
public interface IFileStore
{
    /// <summary>
    /// Records a new upload session unless the project already has a file or an upload with that file id
    /// (<see cref="StartUploadResult.NameTaken"/>), the declared size would take the project past
    /// <paramref name="projectQuotaBytes"/> (<see cref="StartUploadResult.QuotaExceeded"/>), or the project already has
    /// <paramref name="maxOpenUploads"/> unexpired sessions (<see cref="StartUploadResult.TooManyUploads"/>). The session
    /// reserves its declared size (or <see cref="UploadSession.ReservedBytes"/>, if larger) at once.
    /// </summary>
    Task<StartUploadResult> StartUploadAsync(UploadSession session, long projectQuotaBytes, int maxOpenUploads = int.MaxValue, CancellationToken cancellationToken = default);

    /// <summary>
    /// Raises the upload's reservation to <paramref name="reservedBytes"/>, in one transaction that checks the project's
    /// files and every other reservation against <paramref name="projectQuotaBytes"/>, so concurrent writers (on any node)
    /// cannot together pass the quota. True when the reservation already covers it or now does; false when it would pass
    /// the quota or the session is gone.
    /// </summary>
    Task<bool> ReserveUploadAsync(string uploadId, long reservedBytes, long projectQuotaBytes, CancellationToken cancellationToken = default);

    Task<UploadSession?> FindUploadAsync(string uploadId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves the durable offset from <paramref name="expectedReceived"/> to <paramref name="received"/> and the session's
    /// expiry to <paramref name="expirationTime"/>; false when another writer moved it first, or when the bytes are not
    /// covered by the session's reservation.
    /// </summary>
    Task<bool> AdvanceUploadAsync(string uploadId, long expectedReceived, long received, DateTimeOffset expirationTime, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends the session and inserts the file in one transaction, checking the quota once more: the project's files, the
    /// other uploads' reservations and this file must fit <paramref name="projectQuotaBytes"/>.
    /// </summary>
    Task<CompleteUploadResult> CompleteUploadAsync(string uploadId, StoredFile file, long projectQuotaBytes = long.MaxValue, CancellationToken cancellationToken = default);

    Task<bool> DeleteUploadAsync(string uploadId, CancellationToken cancellationToken = default);

    Task<StoredFile?> GetAsync(string projectId, string fileId, CancellationToken cancellationToken = default);

    /// <summary>The project's files, newest first, after <paramref name="after"/> (the last file of the previous page).</summary>
    Task<IReadOnlyList<StoredFile>> ListAsync(string projectId, int limit, FileCursor? after, CancellationToken cancellationToken = default);

    Task<bool> DeleteAsync(string projectId, string fileId, CancellationToken cancellationToken = default);

    /// <summary>Sets a file's state (processing outcome); false when the file is gone.</summary>
    Task<bool> SetStateAsync(string projectId, string fileId, FileState state, string? errorMessage, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Counts one more processing attempt of a file, before the attempt begins, and returns the new count (0 when the file
    /// is gone): a file whose processing crashed the server is recognised at the next start instead of retried forever.
    /// </summary>
    Task<int> BeginProcessingAsync(string projectId, string fileId, CancellationToken cancellationToken = default);

    /// <summary>Bytes the project holds: its files plus what its uploads in progress have reserved.</summary>
    Task<long> UsedBytesAsync(string projectId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<StoredFile>> ExpiredFilesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<UploadSession>> ExpiredUploadsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<StoredFile>> InStateAsync(FileState state, int limit, CancellationToken cancellationToken = default);

    /// <summary>True when a file row or an upload session claims this file id, checked in one statement (one snapshot).</summary>
    Task<bool> IsClaimedAsync(string projectId, string fileId, CancellationToken cancellationToken = default);

    Task<bool> UploadExistsAsync(string uploadId, CancellationToken cancellationToken = default);
}

public enum FileState
{
    Processing,
    Active,
    Failed,
}

public enum StartUploadResult
{
    Started,
    NameTaken,
    QuotaExceeded,
    TooManyUploads,
}

public enum CompleteUploadResult
{
    Completed,
    /// <summary>The session was cancelled or expired (and swept) meanwhile.</summary>
    Gone,
    /// <summary>A file with that id appeared meanwhile.</summary>
    NameTaken,
    QuotaExceeded,
}

public sealed record StoredFile(
    string ProjectId,
    string Id,
    string? DisplayName,
    string MimeType,
    long SizeBytes,
    byte[] Sha256,
    FileState State,
    string? ErrorMessage,
    DateTimeOffset CreateTime,
    DateTimeOffset UpdateTime,
    DateTimeOffset ExpirationTime)
{
    /// <summary>How many times processing began (see <see cref="IFileStore.BeginProcessingAsync"/>).</summary>
    public int ProcessingAttempts { get; init; }
}

public sealed record UploadSession(
    string UploadId,
    string ProjectId,
    string FileId,
    string? DisplayName,
    string MimeType,
    long? DeclaredSize,
    long ReceivedBytes,
    DateTimeOffset CreateTime,
    DateTimeOffset ExpirationTime)
{
    /// <summary>Bytes held against the project's quota: the declared size, or what has arrived, reserved ahead chunk by chunk.</summary>
    public long ReservedBytes { get; init; }
}

/// <summary>Keyset position in a listing: the create time and id of the last file already returned.</summary>
public sealed record FileCursor(DateTimeOffset CreateTime, string Id);
