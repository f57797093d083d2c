using Castor.Storage.Files;

namespace Castor.Application.Files;

/// <summary>
/// An uploaded file as the Files API describes it (<c>files.get</c>, <c>files.list</c>, an upload's answer): the
/// storage record without what only the server needs (the owning project, processing attempts).
/// </summary>
public sealed record FileMetadata(
    string Id,
    string? DisplayName,
    string MimeType,
    long SizeBytes,
    byte[] Sha256,
    FileProcessingState State,
    string? ErrorMessage,
    DateTimeOffset CreateTime,
    DateTimeOffset UpdateTime,
    DateTimeOffset ExpirationTime)
{
    internal static FileMetadata From(StoredFile file) => new(file.Id, file.DisplayName, file.MimeType, file.SizeBytes, file.Sha256,
        file.State switch
        {
            FileState.Processing => FileProcessingState.Processing,
            FileState.Active => FileProcessingState.Active,
            _ => FileProcessingState.Failed,
        },
        file.ErrorMessage, file.CreateTime, file.UpdateTime, file.ExpirationTime);
}
