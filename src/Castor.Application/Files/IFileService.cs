using Castor.Application.Keys;

namespace Castor.Application.Files;

/// <summary>
/// The Files API for the authenticated caller: resumable and one-request uploads, get, list, delete and download, all
/// within the caller's project. Adapters depend on this, so quotas or metering can wrap it.
/// </summary>
public interface IFileService
{
    /// <summary>The limits uploads are held to (adapters report some of them in their own headers).</summary>
    FileLimits Limits { get; }

    /// <summary>Begins an upload: validates the metadata, reserves the id and the declared size against the project's quota.</summary>
    Task<ResumableUpload> StartUploadAsync(Caller caller, NewFile file, CancellationToken cancellationToken);

    /// <summary>The bytes received so far (<c>X-Goog-Upload-Command: query</c>).</summary>
    Task<ResumableUpload> QueryUploadAsync(Caller caller, string uploadId, CancellationToken cancellationToken);

    /// <summary>Appends a chunk at <paramref name="offset"/> and, with <paramref name="finalize"/>, turns the upload into a file.</summary>
    Task<UploadProgress> UploadChunkAsync(Caller caller, string uploadId, long? offset, Stream body, bool finalize, CancellationToken cancellationToken);

    /// <summary>One-request uploads (multipart and raw protocols).</summary>
    Task<FileMetadata> UploadAsync(Caller caller, NewFile file, Stream body, CancellationToken cancellationToken);

    /// <summary>Abandons an upload (<c>X-Goog-Upload-Command: cancel</c>).</summary>
    Task CancelUploadAsync(Caller caller, string uploadId, CancellationToken cancellationToken);

    Task<FileMetadata> GetAsync(Caller caller, string name, CancellationToken cancellationToken);

    Task<FileListing> ListAsync(Caller caller, int? pageSize, string? pageToken, CancellationToken cancellationToken);

    Task DeleteAsync(Caller caller, string name, CancellationToken cancellationToken);

    /// <summary>The file's metadata and its bytes, opened for reading.</summary>
    Task<(FileMetadata File, Stream Content)> OpenAsync(Caller caller, string name, CancellationToken cancellationToken);
}
