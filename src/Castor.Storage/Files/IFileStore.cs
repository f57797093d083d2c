namespace Castor.Storage.Files;

/// <summary>
/// Metadata of uploaded files and of resumable upload sessions. A file's row is written only once its bytes are
/// complete on disk (in the same transaction that ends its upload session), so a listed file is always whole.
/// </summary>
public interface IFileStore
{
    /// <summary>
    /// Records a new upload session unless the project already has a file or an upload with that file id
    /// (<see cref="StartUploadResult.NameTaken"/>) or the declared size would take the project past
    /// <paramref name="projectQuotaBytes"/> (<see cref="StartUploadResult.QuotaExceeded"/>).
    /// </summary>
    Task<StartUploadResult> StartUploadAsync(UploadSession session, long projectQuotaBytes, CancellationToken cancellationToken = default);

    Task<UploadSession?> FindUploadAsync(string uploadId, CancellationToken cancellationToken = default);

    /// <summary>Moves the durable offset from <paramref name="expectedReceived"/> to <paramref name="received"/>; false when another writer moved it first.</summary>
    Task<bool> AdvanceUploadAsync(string uploadId, long expectedReceived, long received, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Ends the session and inserts the file in one transaction; false when the session is gone or the file id was taken meanwhile.</summary>
    Task<bool> CompleteUploadAsync(string uploadId, StoredFile file, CancellationToken cancellationToken = default);

    Task<bool> DeleteUploadAsync(string uploadId, CancellationToken cancellationToken = default);

    Task<StoredFile?> GetAsync(string projectId, string fileId, CancellationToken cancellationToken = default);

    /// <summary>The project's files, newest first, after <paramref name="after"/> (the last file of the previous page).</summary>
    Task<IReadOnlyList<StoredFile>> ListAsync(string projectId, int limit, FileCursor? after, CancellationToken cancellationToken = default);

    Task<bool> DeleteAsync(string projectId, string fileId, CancellationToken cancellationToken = default);

    /// <summary>Sets a file's state (processing outcome); false when the file is gone.</summary>
    Task<bool> SetStateAsync(string projectId, string fileId, FileState state, string? errorMessage, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Bytes the project holds: its files plus the declared (or received) size of its uploads in progress.</summary>
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
    DateTimeOffset ExpirationTime);

public sealed record UploadSession(
    string UploadId,
    string ProjectId,
    string FileId,
    string? DisplayName,
    string MimeType,
    long? DeclaredSize,
    long ReceivedBytes,
    DateTimeOffset CreateTime,
    DateTimeOffset ExpirationTime);

/// <summary>Keyset position in a listing: the create time and id of the last file already returned.</summary>
public sealed record FileCursor(DateTimeOffset CreateTime, string Id);
