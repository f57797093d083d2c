namespace Castor.Storage.Files;

/// <summary>
/// The bytes of uploaded files under <c>{data}/files/{project}/{fileId}</c>. An upload in progress writes
/// <c>{data}/files/{project}/.uploads/{uploadId}.part</c>, which is renamed into place when the upload finalizes, so a
/// file name under the project folder always holds complete bytes. Paths are built only from ids the service
/// generated or validated (lower-case letters, digits and dashes), never from raw request text.
/// </summary>
public sealed class FileContentStore(string root)
{
    private const string UploadsFolder = ".uploads";
    private const string PartExtension = ".part";
    private const string TextExtension = ".text";
    private const string BatchesFolder = ".batches";

    public string Root { get; } = Path.GetFullPath(root);

    public string FilePath(string projectId, string fileId) => Path.Combine(Root, projectId, fileId);

    public string PartPath(string projectId, string uploadId) => Path.Combine(Root, projectId, UploadsFolder, uploadId + PartExtension);

    /// <summary>
    /// One node's part of a batch job's output file, <c>{data}/files/{project}/.batches/{batchId}.{owner}.part</c>:
    /// results are appended as they are recorded, and the finalize renames the part into place. Each node (each
    /// process: <paramref name="owner"/> is its lease name) appends only to its own part, so nodes sharing the data
    /// folder never write one file together.
    /// </summary>
    public string BatchPartPath(string projectId, string batchId, string owner) =>
        Path.Combine(Root, projectId, BatchesFolder, batchId + "." + owner + PartExtension);

    /// <summary>The parts of a batch job's output that any node left (the job's id and owner names never contain dots).</summary>
    public IReadOnlyList<string> BatchPartPaths(string projectId, string batchId)
    {
        var folder = Path.Combine(Root, projectId, BatchesFolder);
        return Directory.Exists(folder) ? Directory.GetFiles(folder, batchId + ".*" + PartExtension) : [];
    }

    /// <summary>Opens (creating it, and its folders) one node's part of a batch job's output, for reading and writing.</summary>
    public FileStream OpenBatchPart(string projectId, string batchId, string owner)
    {
        var path = BatchPartPath(projectId, batchId, owner);
        CreateFolders(Path.GetDirectoryName(path)!);
        return new FileStream(path, PrivateFiles.Options(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous));
    }

    /// <summary>Moves a finished batch output part to the output file's name (an atomic rename on one file system).</summary>
    public void CommitBatchPart(string projectId, string batchId, string owner, string fileId) =>
        File.Move(BatchPartPath(projectId, batchId, owner), FilePath(projectId, fileId), overwrite: true);

    /// <summary>Text extracted from a document (a PDF's pages), written once while the file is PROCESSING.</summary>
    public string TextPath(string projectId, string fileId) => Path.Combine(Root, projectId, fileId + TextExtension);

    /// <summary>
    /// Opens an upload's part file for writing at <paramref name="durableOffset"/>, dropping anything past it (bytes never
    /// acknowledged). The part file is created here, when the first chunk arrives, not when the session starts: a
    /// session that never sends a byte leaves nothing on disk.
    /// </summary>
    public FileStream OpenPartForAppend(string projectId, string uploadId, long durableOffset)
    {
        var path = PartPath(projectId, uploadId);
        CreateFolders(Path.GetDirectoryName(path)!);
        var stream = new FileStream(path, PrivateFiles.Options(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous));
        try
        {
            if (stream.Length < durableOffset)
                throw new InvalidDataException($"The upload's part file holds {stream.Length} bytes, but {durableOffset} were acknowledged.");
            stream.SetLength(durableOffset);
            stream.Position = durableOffset;
            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public FileStream OpenPartForRead(string projectId, string uploadId) =>
        new(PartPath(projectId, uploadId), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);

    /// <summary>Moves a finished part file to the file's name (an atomic rename on one file system).</summary>
    public void CommitPart(string projectId, string uploadId, string fileId) =>
        File.Move(PartPath(projectId, uploadId), FilePath(projectId, fileId), overwrite: true);

    /// <summary>
    /// A crash between the rename and the database commit leaves the bytes under the file's name while the
    /// upload session still exists; moving them back lets the retried finalize complete.
    /// </summary>
    public bool RecoverPart(string projectId, string uploadId, string fileId)
    {
        var part = PartPath(projectId, uploadId);
        if (File.Exists(part)) return true;
        var final = FilePath(projectId, fileId);
        if (!File.Exists(final)) return false;
        CreateFolders(Path.GetDirectoryName(part)!);
        File.Move(final, part);
        return true;
    }

    public FileStream OpenRead(string projectId, string fileId) =>
        new(FilePath(projectId, fileId), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);

    public void DeleteFile(string projectId, string fileId)
    {
        File.Delete(FilePath(projectId, fileId));
        File.Delete(TextPath(projectId, fileId));
    }

    public void DeletePart(string projectId, string uploadId) => File.Delete(PartPath(projectId, uploadId));

    /// <summary>Writes a document's extracted text through a temporary name, so readers see all of it or none.</summary>
    public async Task WriteTextAsync(string projectId, string fileId, string text, CancellationToken cancellationToken)
    {
        var path = TextPath(projectId, fileId);
        var temporary = path + ".tmp";
        await using (var stream = new FileStream(temporary, PrivateFiles.Options(FileMode.Create, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous)))
        await using (var writer = new StreamWriter(stream))
            await writer.WriteAsync(text.AsMemory(), cancellationToken).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The root and the folders under it, 0700 (see <see cref="PrivateFiles"/>).</summary>
    private void CreateFolders(string folder)
    {
        if (!Directory.Exists(Root)) PrivateFiles.CreateFolder(Root);
        var project = Path.GetDirectoryName(folder) is { } parent && parent.Length > Root.Length ? parent : null;
        if (project is not null && !Directory.Exists(project)) PrivateFiles.CreateFolder(project);
        if (!Directory.Exists(folder)) PrivateFiles.CreateFolder(folder);
    }

    /// <summary>Every stored file, part file and text file on disk, for the sweeper to match against the database.</summary>
    public IEnumerable<StoredBytes> Enumerate()
    {
        if (!Directory.Exists(Root)) yield break;
        foreach (var projectFolder in Directory.EnumerateDirectories(Root))
        {
            var projectId = Path.GetFileName(projectFolder);
            foreach (var path in Directory.EnumerateFiles(projectFolder))
            {
                var name = Path.GetFileName(path);
                if (name.EndsWith(TextExtension, StringComparison.Ordinal))
                    yield return new StoredBytes(StoredBytesKind.Text, projectId, name[..^TextExtension.Length], path);
                else if (name.EndsWith(TextExtension + ".tmp", StringComparison.Ordinal))
                    yield return new StoredBytes(StoredBytesKind.Text, projectId, name[..^(TextExtension.Length + 4)], path);
                else
                    yield return new StoredBytes(StoredBytesKind.File, projectId, name, path);
            }
            var uploads = Path.Combine(projectFolder, UploadsFolder);
            if (!Directory.Exists(uploads)) continue;
            foreach (var path in Directory.EnumerateFiles(uploads, "*" + PartExtension))
                yield return new StoredBytes(StoredBytesKind.Part, projectId, Path.GetFileNameWithoutExtension(path), path);
        }
    }
}

public enum StoredBytesKind
{
    File,
    Text,
    Part,
}

/// <summary>Bytes found on disk: <see cref="Id"/> is the file id (File, Text) or the upload id (Part).</summary>
public sealed record StoredBytes(StoredBytesKind Kind, string ProjectId, string Id, string Path);
