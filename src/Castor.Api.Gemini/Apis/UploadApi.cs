using System.Globalization;
using System.Text.Json;
using Castor.Api.Gemini.Infrastructure;
using Castor.Api.Gemini.Wire;
using Castor.Application.Errors;
using Castor.Application.Files;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Castor.Api.Gemini.Apis;

/// <summary>
/// <c>POST /upload/{version}/files</c>: Google's resumable protocol (what @google/genai and google-genai speak: start,
/// then <c>upload</c> chunks, <c>finalize</c>, <c>query</c>, <c>cancel</c> against the session URL), and the one-request
/// multipart (<c>multipart/related</c>: JSON metadata, then the media) and raw (<c>uploadType=media</c>) forms.
/// Bodies stream to disk; none goes through the 20 MB JSON body limit.
/// </summary>
internal static class UploadApi
{
    private const string ChunkGranularity = "8388608";
    private const int MaxMetadataBytes = 64 * 1024;

    public static async Task HandleAsync(HttpContext context, IFileService files)
    {
        var request = context.Request;
        var uploadId = request.Query["upload_id"].ToString();
        if (uploadId.Length > 0)
        {
            await SessionCommandAsync(context, files, uploadId).ConfigureAwait(false);
            return;
        }

        var protocol = Header(request, "X-Goog-Upload-Protocol") ?? request.Query["uploadType"].ToString() switch
        {
            "" => null,
            var t => t,
        };
        switch (protocol?.ToLowerInvariant())
        {
            case "resumable":
                await StartAsync(context, files).ConfigureAwait(false);
                break;
            case "multipart":
                await MultipartAsync(context, files).ConfigureAwait(false);
                break;
            case "raw" or "media":
                await RawAsync(context, files).ConfigureAwait(false);
                break;
            case null when Commands(request).Contains("start"):
                await StartAsync(context, files).ConfigureAwait(false);
                break;
            case null:
                if (request.ContentType?.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) == true)
                    await MultipartAsync(context, files).ConfigureAwait(false);
                else
                    await RawAsync(context, files).ConfigureAwait(false);
                break;
            default:
                throw CastorException.InvalidField("X-Goog-Upload-Protocol", $"'{protocol}' is not an upload protocol; use resumable, multipart or raw.");
        }
    }

    private static async Task StartAsync(HttpContext context, IFileService files)
    {
        var request = context.Request;
        var command = Commands(request);
        if (!command.Contains("start"))
            throw CastorException.InvalidField("X-Goog-Upload-Command", "a resumable upload begins with the command 'start'; continue it at the X-Goog-Upload-URL it returns.");
        var metadata = (await RequestBody.ReadAsync(request, GeminiJson.TypeInfo<CreateFileRequest>()).ConfigureAwait(false)).File;
        var declared = ParseSize(Header(request, "X-Goog-Upload-Header-Content-Length"), "X-Goog-Upload-Header-Content-Length");
        var bodySize = ParseSize(metadata?.SizeBytes, "file.sizeBytes");
        if (declared is not null && bodySize is not null && declared != bodySize)
            throw CastorException.InvalidField("file.sizeBytes", $"file.sizeBytes is {bodySize} but X-Goog-Upload-Header-Content-Length is {declared}.");
        var mimeType = metadata?.MimeType is { Length: > 0 } m ? m : Header(request, "X-Goog-Upload-Header-Content-Type");

        var session = await files.StartUploadAsync(context.Caller(),
            new NewFile(metadata?.Name, metadata?.DisplayName, mimeType, declared ?? bodySize), context.RequestAborted).ConfigureAwait(false);

        var url = $"{PublicUrl.For(context).Base(request)}{request.Path}?upload_id={session.UploadId}&upload_protocol=resumable";
        var headers = context.Response.Headers;
        headers["X-Goog-Upload-Status"] = "active";
        headers["X-Goog-Upload-URL"] = url;
        headers["X-Goog-Upload-Control-URL"] = url;
        headers["X-Goog-Upload-Chunk-Granularity"] = ChunkGranularity;
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    private static async Task SessionCommandAsync(HttpContext context, IFileService files, string uploadId)
    {
        var request = context.Request;
        var response = context.Response;
        var commands = Commands(request);
        var caller = context.Caller();
        try
        {
            if (commands.Contains("cancel"))
            {
                await files.CancelUploadAsync(caller, uploadId, context.RequestAborted).ConfigureAwait(false);
                response.Headers["X-Goog-Upload-Status"] = "cancelled";
                return;
            }
            if (commands.Contains("query"))
            {
                var session = await files.QueryUploadAsync(caller, uploadId, context.RequestAborted).ConfigureAwait(false);
                WriteProgress(response, session.ReceivedBytes);
                return;
            }
            var upload = commands.Contains("upload");
            var finalize = commands.Contains("finalize");
            if (!upload && !finalize)
                throw CastorException.InvalidField("X-Goog-Upload-Command", "use upload, finalize, 'upload, finalize', query or cancel with an upload URL.");

            var offset = ParseSize(Header(request, "X-Goog-Upload-Offset"), "X-Goog-Upload-Offset");
            var body = upload ? request.Body : Stream.Null;
            var progress = await files.UploadChunkAsync(caller, uploadId, offset, body, finalize, context.RequestAborted).ConfigureAwait(false);
            if (progress.File is null)
            {
                WriteProgress(response, progress.ReceivedBytes);
                return;
            }
            response.Headers["X-Goog-Upload-Status"] = "final";
            response.Headers["X-Goog-Upload-Size-Received"] = progress.ReceivedBytes.ToString(CultureInfo.InvariantCulture);
            await WriteFileAsync(context, progress.File).ConfigureAwait(false);
        }
        catch (UploadOffsetException ex)
        {
            // The client learns where to resume from the same headers a query returns.
            response.Clear();
            WriteProgress(response, ex.ReceivedBytes);
            await GeminiErrors.WriteAsync(context, CastorException.InvalidArgument(ex.Message)).ConfigureAwait(false);
        }
    }

    /// <summary><c>multipart/related</c> (Google's form) or <c>multipart/form-data</c>: a JSON metadata part, then the media part.</summary>
    private static async Task MultipartAsync(HttpContext context, IFileService files)
    {
        var request = context.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) || HeaderUtilities.RemoveQuotes(contentType.Boundary).Length == 0)
            throw CastorException.InvalidArgument("A multipart upload needs a Content-Type of multipart/related (or multipart/form-data) with a boundary.");
        var reader = new MultipartReader(HeaderUtilities.RemoveQuotes(contentType.Boundary).ToString(), request.Body)
        {
            // The media part streams; the per-file limit is enforced while it is written.
            BodyLengthLimit = null,
        };

        FileResource? metadata = null;
        MultipartSection? section;
        while ((section = await NextSectionAsync(reader, context.RequestAborted).ConfigureAwait(false)) is not null)
        {
            section.Body = new MultipartPartStream(section.Body);
            var sectionType = section.ContentType ?? "";
            var isMetadata = metadata is null && (sectionType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) ||
                                                  section.GetContentDispositionHeader()?.Name.Value is "metadata");
            if (isMetadata)
            {
                metadata = (await ReadMetadataAsync(section.Body, context.RequestAborted).ConfigureAwait(false)).File ?? new FileResource();
                continue;
            }
            var mimeType = metadata?.MimeType is { Length: > 0 } m ? m : sectionType.Length > 0 ? sectionType : null;
            var displayName = metadata?.DisplayName ?? section.AsFileSection()?.FileName;
            var file = await files.UploadAsync(context.Caller(), new NewFile(metadata?.Name, displayName, mimeType, ParseSize(metadata?.SizeBytes, "file.sizeBytes")),
                section.Body, context.RequestAborted).ConfigureAwait(false);
            context.Response.Headers["X-Goog-Upload-Status"] = "final";
            await WriteFileAsync(context, file).ConfigureAwait(false);
            return;
        }
        throw CastorException.InvalidArgument("The multipart upload has no media part; send the JSON metadata part, then the file's bytes.");
    }

    /// <summary>A body cut off before its closing boundary is the client's mistake: a 400, not an I/O failure of the server.</summary>
    private static CastorException Truncated() => CastorException.InvalidArgument(
        "The multipart upload ended before its closing boundary; send the JSON metadata part, the media part, and the closing --boundary--.");

    private static async Task<MultipartSection?> NextSectionAsync(MultipartReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Truncated();
        }
    }

    /// <summary>A part's body: reads that fail because the multipart structure ended early become <see cref="Truncated"/>.</summary>
    private sealed class MultipartPartStream(Stream part) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await part.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException) when (!cancellationToken.IsCancellationRequested)
            {
                throw Truncated();
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>The body is the file; its Content-Type is the file's type.</summary>
    private static async Task RawAsync(HttpContext context, IFileService files)
    {
        var request = context.Request;
        var mimeType = Header(request, "X-Goog-Upload-Header-Content-Type") ?? request.ContentType;
        var file = await files.UploadAsync(context.Caller(),
            new NewFile(null, Header(request, "X-Goog-Upload-File-Name"), mimeType, request.ContentLength), request.Body, context.RequestAborted).ConfigureAwait(false);
        context.Response.Headers["X-Goog-Upload-Status"] = "final";
        await WriteFileAsync(context, file).ConfigureAwait(false);
    }

    private static async Task<CreateFileRequest> ReadMetadataAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxMetadataBytes)
                throw CastorException.InvalidArgument($"The metadata part of the upload is larger than {MaxMetadataBytes} bytes.");
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0) return new CreateFileRequest();
        buffer.Position = 0;
        try
        {
            return JsonSerializer.Deserialize(buffer, GeminiJson.TypeInfo<CreateFileRequest>()) ?? new CreateFileRequest();
        }
        catch (JsonException ex)
        {
            throw RequestBody.InvalidJson(ex);
        }
    }

    private static Task WriteFileAsync(HttpContext context, FileMetadata file) =>
        Results.Json(new CreateFileResponse { File = FilesApi.ToWire(file, context.Request) }, GeminiJson.TypeInfo<CreateFileResponse>()).ExecuteAsync(context);

    private static void WriteProgress(HttpResponse response, long received)
    {
        response.Headers["X-Goog-Upload-Status"] = "active";
        response.Headers["X-Goog-Upload-Size-Received"] = received.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-Goog-Upload-Chunk-Granularity"] = ChunkGranularity;
    }

    /// <summary><c>X-Goog-Upload-Command: upload, finalize</c> → {upload, finalize}.</summary>
    private static HashSet<string> Commands(HttpRequest request) =>
        (Header(request, "X-Goog-Upload-Command") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(c => c.ToLowerInvariant()).ToHashSet();

    private static string? Header(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var value) && value.ToString().Trim() is { Length: > 0 } text ? text : null;

    private static long? ParseSize(string? text, string field)
    {
        if (text is null) return null;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            throw CastorException.InvalidField(field, $"'{text}' is not a valid byte count.");
        return size;
    }
}
