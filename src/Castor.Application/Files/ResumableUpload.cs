namespace Castor.Application.Files;

/// <summary>An open resumable upload as its client sees it: the id in its upload URL and how many bytes arrived so far.</summary>
public sealed record ResumableUpload(string UploadId, long ReceivedBytes);
