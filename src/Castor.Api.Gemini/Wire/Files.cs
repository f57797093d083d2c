namespace Castor.Api.Gemini.Wire;

// Wire types of the Files API (media.upload, files.get/list/delete).

/// <summary>The API's <c>File</c> resource.</summary>
public sealed class FileResource
{
    public string? Name { get; set; }
    public string? DisplayName { get; set; }
    public string? MimeType { get; set; }

    /// <summary>int64, written as a string (protobuf's JSON mapping).</summary>
    public string? SizeBytes { get; set; }
    public string? CreateTime { get; set; }
    public string? UpdateTime { get; set; }
    public string? ExpirationTime { get; set; }

    /// <summary>Base64 of the SHA-256 of the bytes.</summary>
    public string? Sha256Hash { get; set; }
    public string? Uri { get; set; }
    public string? DownloadUri { get; set; }
    public string? State { get; set; }
    public string? Source { get; set; }
    public FileStatus? Error { get; set; }
}

/// <summary>google.rpc.Status of a file whose processing failed.</summary>
public sealed class FileStatus
{
    public int Code { get; set; }
    public string? Message { get; set; }
}

/// <summary>The start of an upload and the answer to its end: <c>{"file": {…}}</c>.</summary>
public sealed class CreateFileRequest
{
    public FileResource? File { get; set; }
}

public sealed class CreateFileResponse
{
    public FileResource? File { get; set; }
}

public sealed class ListFilesResponse
{
    public List<FileResource> Files { get; set; } = [];
    public string? NextPageToken { get; set; }
}

public sealed class EmptyResponse;
