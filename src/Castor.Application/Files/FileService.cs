using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Castor.Application.Errors;
using Castor.Application.Keys;
using Castor.Storage.Files;
using Microsoft.Extensions.Logging;

namespace Castor.Application.Files;

/// <summary>
/// The Files API's rules: resumable uploads whose bytes stream to disk (hashed on the way, flushed before each chunk
/// is acknowledged, so the offset reported after a crash is what the disk holds), files that appear only once
/// complete, per-project isolation and quota, listing, download and deletion.
/// </summary>
public sealed partial class FileService(IFileStore store, FileContentStore content, FileLimits limits, FileProcessor processor, TimeProvider clock,
    ILogger<FileService> logger) : IFileService
{
    public const string NamePrefix = "files/";
    public const int DefaultPageSize = 10;
    public const int MaxPageSize = 100;
    private const int MaxDisplayNameLength = 512;
    private const int CopyBufferBytes = 128 * 1024;

    // Quota is reserved ahead of the bytes in steps of this size (one store transaction each), exactly near the quota.
    private const long ReserveAheadBytes = 8L * 1024 * 1024;

    // What this node knows of each upload it is receiving: a lock (one chunk at a time) and the running hash.
    private readonly ConcurrentDictionary<string, UploadState> _uploads = new(StringComparer.Ordinal);

    public FileLimits Limits => limits;

    /// <summary>Begins an upload: validates the metadata, reserves the id and the declared size against the project's quota.</summary>
    public async Task<ResumableUpload> StartUploadAsync(Caller caller, NewFile file, CancellationToken cancellationToken)
    {
        var session = await StartSessionAsync(caller, file, cancellationToken).ConfigureAwait(false);
        return new ResumableUpload(session.UploadId, session.ReceivedBytes);
    }

    private async Task<UploadSession> StartSessionAsync(Caller caller, NewFile file, CancellationToken cancellationToken)
    {
        var fileId = file.Name is { Length: > 0 } name ? ParseName(name, "file.name") : NewFileId();
        if (file.DisplayName is { Length: > MaxDisplayNameLength })
            throw CastorException.InvalidField("file.displayName", $"the display name has {file.DisplayName.Length} characters; at most {MaxDisplayNameLength} are allowed.");
        var mimeType = file.MimeType?.Trim();
        if (string.IsNullOrEmpty(mimeType))
            throw CastorException.InvalidField("file.mimeType", "the MIME type of the file is required (X-Goog-Upload-Header-Content-Type or file.mimeType).");
        if (!MediaTypes.IsWellFormed(mimeType))
            throw CastorException.InvalidField("file.mimeType",
                $"'{MediaTypes.Printable(mimeType)}' is not a valid MIME type; use type/subtype with optional ;name=value parameters, at most {MediaTypes.MaxLength} printable ASCII characters.");
        if (file.DeclaredSize is < 0)
            throw CastorException.InvalidField("X-Goog-Upload-Header-Content-Length", $"{file.DeclaredSize} is not a valid size.");
        if (file.DeclaredSize > limits.MaxFileBytes)
            throw TooLarge(file.DeclaredSize.Value);

        var now = Now();
        // A declared size is reserved against the quota up front; otherwise bytes are reserved as they arrive. The part
        // file is created by the first chunk, so a session that never sends one leaves only its row (swept when idle).
        var session = new UploadSession(NewUploadId(), caller.ProjectId, fileId, file.DisplayName, mimeType, file.DeclaredSize, 0, now, now)
            { ReservedBytes = file.DeclaredSize ?? 0 };
        session = session with { ExpirationTime = ExpiryAfterActivity(session, now) };
        var result = await store.StartUploadAsync(session, limits.ProjectQuotaBytes, limits.MaxOpenUploads, cancellationToken).ConfigureAwait(false);
        return result switch
        {
            StartUploadResult.Started => session,
            StartUploadResult.NameTaken => throw new CastorException(ErrorStatus.AlreadyExists, $"A file named {NamePrefix}{fileId} already exists."),
            StartUploadResult.TooManyUploads => throw new CastorException(ErrorStatus.ResourceExhausted,
                $"The project already has {limits.MaxOpenUploads} upload sessions open, the most it may have. Finish or cancel one (X-Goog-Upload-Command: cancel), " +
                $"or wait for idle ones to expire ({limits.UploadIdleTimeout.TotalMinutes:0} minutes after their last chunk)."),
            _ => throw QuotaExceeded(file.DeclaredSize ?? 0),
        };
    }

    /// <summary>The bytes received so far (<c>X-Goog-Upload-Command: query</c>).</summary>
    public async Task<ResumableUpload> QueryUploadAsync(Caller caller, string uploadId, CancellationToken cancellationToken)
    {
        var session = await FindUploadAsync(caller, uploadId, cancellationToken).ConfigureAwait(false);
        return new ResumableUpload(session.UploadId, session.ReceivedBytes);
    }

    /// <summary>
    /// Appends a chunk at <paramref name="offset"/> (bytes before the durable offset are ones the server already has and
    /// are skipped, so a resent chunk is harmless) and, with <paramref name="finalize"/>, turns the upload into a file.
    /// Whatever arrived before a dropped connection is kept and reported by the next query.
    /// </summary>
    public async Task<UploadProgress> UploadChunkAsync(Caller caller, string uploadId, long? offset, Stream body, bool finalize, CancellationToken cancellationToken)
    {
        var session = await FindUploadAsync(caller, uploadId, cancellationToken).ConfigureAwait(false);
        var state = _uploads.GetOrAdd(uploadId, _ => new UploadState());
        await state.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Re-read under the lock: another request (or node) may have moved the offset while this one waited.
            session = await FindUploadAsync(caller, uploadId, cancellationToken).ConfigureAwait(false);
            if (offset > session.ReceivedBytes)
                throw new UploadOffsetException(session.ReceivedBytes,
                    $"The upload offset {offset} is past the {session.ReceivedBytes} bytes received; query the upload and resume from there.");
            // No part file is fine before the first byte (it is created by the first chunk); after, the bytes are lost.
            if (!content.RecoverPart(session.ProjectId, session.UploadId, session.FileId) && session.ReceivedBytes > 0)
                throw new CastorException(ErrorStatus.NotFound, $"The upload {uploadId} has lost its data; start a new upload.");

            await EnsureHashAsync(state, session, cancellationToken).ConfigureAwait(false);
            var received = await AppendAsync(state, session, body, skip: session.ReceivedBytes - (offset ?? session.ReceivedBytes), cancellationToken).ConfigureAwait(false);
            if (!finalize) return new UploadProgress(received, null);

            var file = await FinalizeAsync(state, session with { ReceivedBytes = received }, cancellationToken).ConfigureAwait(false);
            return new UploadProgress(received, FileMetadata.From(file));
        }
        finally
        {
            state.Lock.Release();
        }
    }

    /// <summary>One-request uploads (multipart and raw protocols): the same path as a resumable upload with one finalizing chunk.</summary>
    public async Task<FileMetadata> UploadAsync(Caller caller, NewFile file, Stream body, CancellationToken cancellationToken)
    {
        var session = await StartSessionAsync(caller, file, cancellationToken).ConfigureAwait(false);
        try
        {
            var progress = await UploadChunkAsync(caller, session.UploadId, 0, body, finalize: true, cancellationToken).ConfigureAwait(false);
            return progress.File!;
        }
        catch
        {
            // A single-request upload cannot be resumed: leave nothing behind.
            await CancelUploadAsync(caller, session.UploadId, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Abandons an upload (<c>X-Goog-Upload-Command: cancel</c>): its session and bytes are removed.</summary>
    public async Task CancelUploadAsync(Caller caller, string uploadId, CancellationToken cancellationToken)
    {
        var session = await store.FindUploadAsync(uploadId, cancellationToken).ConfigureAwait(false);
        if (session is null || session.ProjectId != caller.ProjectId) return;
        await store.DeleteUploadAsync(uploadId, cancellationToken).ConfigureAwait(false);
        content.DeletePart(session.ProjectId, uploadId);
        ForgetUpload(uploadId);
    }

    public async Task<FileMetadata> GetAsync(Caller caller, string name, CancellationToken cancellationToken) =>
        FileMetadata.From(await GetStoredAsync(caller, name, cancellationToken).ConfigureAwait(false));

    private async Task<StoredFile> GetStoredAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        var id = ParseName(name, "name");
        return await store.GetAsync(caller.ProjectId, id, cancellationToken).ConfigureAwait(false) ?? throw FileNotFound(id);
    }

    public async Task<FileListing> ListAsync(Caller caller, int? pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        if (pageSize is < 0)
            throw CastorException.InvalidField("pageSize", $"{pageSize} is not a valid page size; use 1 to {MaxPageSize}.");
        var size = pageSize is null or 0 ? DefaultPageSize : Math.Min(pageSize.Value, MaxPageSize);
        var cursor = string.IsNullOrEmpty(pageToken) ? null : FilePageToken.Decode(pageToken);
        // One more than the page tells whether another page follows without a second query.
        var rows = await store.ListAsync(caller.ProjectId, size + 1, cursor, cancellationToken).ConfigureAwait(false);
        var page = rows.Take(size).ToList();
        var next = rows.Count > size ? FilePageToken.Encode(new FileCursor(page[^1].CreateTime, page[^1].Id)) : null;
        return new FileListing(page.Select(FileMetadata.From).ToList(), next);
    }

    /// <summary>Deletes the row first: from then on the file is gone for every reader, and bytes left by a crash here are swept as orphans.</summary>
    public async Task DeleteAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        var id = ParseName(name, "name");
        if (!await store.DeleteAsync(caller.ProjectId, id, cancellationToken).ConfigureAwait(false))
            throw FileNotFound(id);
        TryDeleteBytes(() => content.DeleteFile(caller.ProjectId, id), id);
    }

    /// <summary>The file's metadata and its bytes, opened for reading.</summary>
    public async Task<(FileMetadata File, Stream Content)> OpenAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        var file = await GetStoredAsync(caller, name, cancellationToken).ConfigureAwait(false);
        try
        {
            return (FileMetadata.From(file), content.OpenRead(file.ProjectId, file.Id));
        }
        catch (FileNotFoundException)
        {
            // Deleted between the lookup and the open.
            throw FileNotFound(file.Id);
        }
    }

    /// <summary>
    /// <c>files/abc</c> or <c>abc</c> → <c>abc</c>. Ids are 1-40 lower-case letters, digits or dashes, not starting or
    /// ending with a dash, as the API defines them.
    /// </summary>
    public static string ParseName(string name, string field)
    {
        var id = name.StartsWith(NamePrefix, StringComparison.Ordinal) ? name[NamePrefix.Length..] : name;
        if (!FileId().IsMatch(id))
            throw CastorException.InvalidField(field,
                $"'{name}' is not a valid file name; use files/ID where ID has 1 to 40 lower-case letters, digits or dashes and does not start or end with a dash.");
        return id;
    }

    public static CastorException FileNotFound(string id) =>
        new(ErrorStatus.NotFound, $"File {NamePrefix}{id} was not found, or it does not belong to this project.");

    internal void ForgetUpload(string uploadId) => _uploads.TryRemove(uploadId, out _);

    private async Task<UploadSession> FindUploadAsync(Caller caller, string uploadId, CancellationToken cancellationToken)
    {
        // Another project's upload id answers exactly like an unknown one.
        var session = UploadIdPattern().IsMatch(uploadId) ? await store.FindUploadAsync(uploadId, cancellationToken).ConfigureAwait(false) : null;
        // An expired session is gone even before the sweeper removes it.
        if (session is null || session.ProjectId != caller.ProjectId || session.ExpirationTime <= clock.GetUtcNow())
            throw new CastorException(ErrorStatus.NotFound, $"The upload {uploadId} was not found: it finished, expired, was cancelled, or never existed.");
        return session;
    }

    /// <summary>
    /// The running hash must cover exactly the durable bytes. After a restart (or when another node took chunks) this
    /// node rebuilds it by reading the part file up to the acknowledged offset, once.
    /// </summary>
    private async Task EnsureHashAsync(UploadState state, UploadSession session, CancellationToken cancellationToken)
    {
        if (state.Hash is not null && state.HashedBytes == session.ReceivedBytes) return;
        state.Hash?.Dispose();
        state.Hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        state.HashedBytes = 0;
        if (session.ReceivedBytes == 0) return;
        await using var part = content.OpenPartForRead(session.ProjectId, session.UploadId);
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
        try
        {
            var remaining = session.ReceivedBytes;
            while (remaining > 0)
            {
                var read = await part.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken).ConfigureAwait(false);
                if (read == 0) throw new InvalidDataException($"The upload {session.UploadId} acknowledged {session.ReceivedBytes} bytes but its part file is shorter.");
                state.Hash.AppendData(buffer, 0, read);
                remaining -= read;
            }
            state.HashedBytes = session.ReceivedBytes;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Streams the body to the part file through one pooled buffer (constant memory whatever the size), hashing the same
    /// bytes. On success and on a dropped connection alike, what was written is flushed to disk before the new offset is
    /// recorded, so the recorded offset never runs ahead of the disk.
    /// </summary>
    private async Task<long> AppendAsync(UploadState state, UploadSession session, Stream body, long skip, CancellationToken cancellationToken)
    {
        var limit = session.DeclaredSize ?? limits.MaxFileBytes;
        var start = session.ReceivedBytes;
        var reserved = session.ReservedBytes;
        var written = 0L;
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
        await using var part = content.OpenPartForAppend(session.ProjectId, session.UploadId, start);
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, buffer.Length), cancellationToken).ConfigureAwait(false)) > 0)
            {
                var from = 0;
                if (skip > 0)
                {
                    // Bytes the server already holds (a resent chunk): drop them.
                    var dropped = (int)Math.Min(skip, read);
                    skip -= dropped;
                    from = dropped;
                    if (from == read) continue;
                }
                var count = read - from;
                if (start + written + count > limit)
                {
                    var attempted = start + written + count;
                    // Nothing of this chunk is kept: the upload stays at its previous offset.
                    part.SetLength(start);
                    written = 0;
                    throw session.DeclaredSize is { } declared && declared < limits.MaxFileBytes
                        ? CastorException.InvalidArgument($"The upload sends more than the {declared} bytes declared in X-Goog-Upload-Header-Content-Length.")
                        : TooLarge(attempted);
                }
                if (start + written + count > reserved)
                {
                    // Reserve before writing, atomically in the store: concurrent uploads of the project (on any node)
                    // cannot together pass the quota. Ahead in steps, then exactly what is needed near the quota.
                    var needed = start + written + count;
                    var ahead = Math.Min(limit, Math.Max(needed, reserved + ReserveAheadBytes));
                    if (await store.ReserveUploadAsync(session.UploadId, ahead, limits.ProjectQuotaBytes, cancellationToken).ConfigureAwait(false))
                        reserved = ahead;
                    else if (ahead > needed && await store.ReserveUploadAsync(session.UploadId, needed, limits.ProjectQuotaBytes, cancellationToken).ConfigureAwait(false))
                        reserved = needed;
                    else
                    {
                        // Nothing of this chunk is kept, as for a file that is too large.
                        part.SetLength(start);
                        written = 0;
                        throw QuotaExceeded(needed - start);
                    }
                }
                await part.WriteAsync(buffer.AsMemory(from, count), cancellationToken).ConfigureAwait(false);
                state.Hash!.AppendData(buffer, from, count);
                written += count;
            }
        }
        catch (Exception ex) when (written > 0)
        {
            // A dropped connection or a cancelled request: keep what arrived, so the client resumes from there.
            await RecordAsync(state, session, part, start, written, CancellationToken.None).ConfigureAwait(false);
            logger.LogDebug(ex, "Upload {Upload} interrupted after {Bytes} more bytes", session.UploadId, written);
            throw;
        }
        catch
        {
            // The hash may have seen bytes the durable offset does not cover; rebuild it next time.
            state.HashedBytes = -1;
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        if (written > 0) await RecordAsync(state, session, part, start, written, cancellationToken).ConfigureAwait(false);
        return start + written;
    }

    private async Task RecordAsync(UploadState state, UploadSession session, FileStream part, long start, long written, CancellationToken cancellationToken)
    {
        part.Flush(flushToDisk: true);
        if (!await store.AdvanceUploadAsync(session.UploadId, start, start + written, ExpiryAfterActivity(session, Now()), cancellationToken).ConfigureAwait(false))
        {
            state.HashedBytes = -1;
            throw new CastorException(ErrorStatus.FailedPrecondition, $"The upload {session.UploadId} was changed by another request at the same time; query it and resume.");
        }
        state.HashedBytes = start + written;
    }

    private async Task<StoredFile> FinalizeAsync(UploadState state, UploadSession session, CancellationToken cancellationToken)
    {
        if (session.DeclaredSize is { } declared && declared != session.ReceivedBytes)
            throw new UploadOffsetException(session.ReceivedBytes,
                $"The upload was finalized after {session.ReceivedBytes} bytes, but X-Goog-Upload-Header-Content-Length declared {declared}.");

        var hash = state.Hash!.GetCurrentHash();
        var now = Now();
        // A PDF is PROCESSING until its text has been extracted; text is usable at once.
        var processing = MediaTypes.IsPdf(session.MimeType);
        var file = new StoredFile(session.ProjectId, session.FileId, session.DisplayName, session.MimeType, session.ReceivedBytes, hash,
            processing ? FileState.Processing : FileState.Active, null, now, now, now + limits.FileLifetime);

        content.CommitPart(session.ProjectId, session.UploadId, session.FileId);
        CompleteUploadResult completed;
        try
        {
            completed = await store.CompleteUploadAsync(session.UploadId, file, limits.ProjectQuotaBytes, CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            // The session still exists; put the bytes back where a retried finalize looks for them.
            content.RecoverPart(session.ProjectId, session.UploadId, session.FileId);
            throw;
        }
        if (completed == CompleteUploadResult.QuotaExceeded)
        {
            // The session stays (the client may delete files and finalize again); its bytes go back under the part name.
            content.RecoverPart(session.ProjectId, session.UploadId, session.FileId);
            state.HashedBytes = -1;
            throw QuotaExceeded(session.ReceivedBytes);
        }
        ForgetUpload(session.UploadId);
        if (completed != CompleteUploadResult.Completed)
        {
            TryDeleteBytes(() => content.DeleteFile(session.ProjectId, session.FileId), session.FileId);
            throw completed == CompleteUploadResult.NameTaken
                ? new CastorException(ErrorStatus.AlreadyExists, $"A file named {NamePrefix}{session.FileId} already exists.")
                : new CastorException(ErrorStatus.NotFound, $"The upload {session.UploadId} was cancelled or expired before it finished.");
        }
        if (processing) processor.Enqueue(file);
        return file;
    }

    private void TryDeleteBytes(Action delete, string id)
    {
        try
        {
            delete();
        }
        catch (IOException ex)
        {
            // The sweeper removes bytes no row claims; the file is already gone for every reader.
            logger.LogWarning(ex, "Could not delete the bytes of {File}; the sweeper will retry", id);
        }
    }

    private CastorException QuotaExceeded(long bytes) => new(ErrorStatus.ResourceExhausted,
        $"Uploading {bytes} bytes would exceed the project's file storage quota of {limits.ProjectQuotaBytes} bytes. Delete files or wait for them to expire.");

    /// <summary>When a session expires after activity at <paramref name="now"/>: idle timeout later, never past its lifetime.</summary>
    private DateTimeOffset ExpiryAfterActivity(UploadSession session, DateTimeOffset now)
    {
        var idle = now + limits.UploadIdleTimeout;
        var end = session.CreateTime + limits.UploadLifetime;
        return idle < end ? idle : end;
    }

    private CastorException TooLarge(long size) =>
        CastorException.InvalidArgument($"The file is {size} bytes; files may be at most {limits.MaxFileBytes} bytes.");

    private DateTimeOffset Now()
    {
        // Millisecond precision: what both databases and the wire keep exactly.
        var now = clock.GetUtcNow();
        return new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
    }

    private static string NewFileId() => RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 12);

    private static string NewUploadId() => "up" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    // \z, not $: $ also matches before a final newline, and "abc\n" must not pass for "abc".
    [GeneratedRegex(@"\A[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?\z")]
    private static partial Regex FileId();

    [GeneratedRegex(@"\A[a-z0-9]{1,64}\z")]
    private static partial Regex UploadIdPattern();

    private sealed class UploadState
    {
        public SemaphoreSlim Lock { get; } = new(1, 1);
        public IncrementalHash? Hash { get; set; }
        public long HashedBytes { get; set; } = -1;
    }
}

/// <summary>What a client declares when it starts an upload.</summary>
public sealed record NewFile(string? Name, string? DisplayName, string? MimeType, long? DeclaredSize);

/// <summary>Bytes received so far; <see cref="File"/> once the upload is final.</summary>
public sealed record UploadProgress(long ReceivedBytes, FileMetadata? File);

public sealed record FileListing(IReadOnlyList<FileMetadata> Files, string? NextPageToken);

/// <summary>A chunk that does not fit the upload's offset; the protocol adapter reports the bytes received with it.</summary>
public sealed class UploadOffsetException(long receivedBytes, string message) : Exception(message)
{
    public long ReceivedBytes { get; } = receivedBytes;
}
