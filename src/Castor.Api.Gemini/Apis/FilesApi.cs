using System.Globalization;
using Castor.Api.Gemini.Wire;
using Castor.Application.Files;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Castor.Api.Gemini.Apis;

/// <summary><c>GET files</c>, <c>GET files/{id}</c>, <c>GET files/{id}:download</c> (or <c>?alt=media</c>) and <c>DELETE files/{id}</c>.</summary>
internal static class FilesApi
{
    public static async Task<IResult> ListAsync(HttpContext context, IFileService files)
    {
        var (pageSize, pageToken) = QueryParameters.Page(context.Request.Query, FileService.MaxPageSize);
        var listing = await files.ListAsync(context.Caller(), pageSize, pageToken, context.RequestAborted).ConfigureAwait(false);
        return Results.Json(new ListFilesResponse
        {
            Files = listing.Files.Select(f => ToWire(f, context.Request)).ToList(),
            // Omitted on the last page: @google/genai's pager re-requests forever on an empty token.
            NextPageToken = listing.NextPageToken,
        }, GeminiJson.TypeInfo<ListFilesResponse>());
    }

    /// <summary><c>files/{id}</c> returns the metadata; <c>files/{id}:download</c> or <c>alt=media</c> the bytes.</summary>
    public static async Task GetAsync(HttpContext context, string name, IFileService files)
    {
        var download = name.EndsWith(":download", StringComparison.Ordinal);
        if (download) name = name[..^":download".Length];
        download |= string.Equals(context.Request.Query["alt"], "media", StringComparison.OrdinalIgnoreCase);
        var caller = context.Caller();
        if (!download)
        {
            var file = await files.GetAsync(caller, name, context.RequestAborted).ConfigureAwait(false);
            await Results.Json(ToWire(file, context.Request), GeminiJson.TypeInfo<FileResource>()).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        var (stored, content) = await files.OpenAsync(caller, name, context.RequestAborted).ConfigureAwait(false);
        await using (content.ConfigureAwait(false))
        {
            var response = context.Response;
            response.ContentType = stored.MimeType;
            response.ContentLength = stored.SizeBytes;
            // Uploaded bytes are the uploader's, not this origin's: an HTML, SVG or script file must never render or run
            // here (with ?key= in the link it would run with the key's project). Saved as a file, never sniffed, and
            // sandboxed should a browser display it anyway.
            var disposition = new ContentDispositionHeaderValue("attachment");
            disposition.SetHttpFileName(DownloadName(stored));
            response.Headers.ContentDisposition = disposition.ToString();
            response.Headers.XContentTypeOptions = "nosniff";
            response.Headers.ContentSecurityPolicy = "sandbox";
            await content.CopyToAsync(response.Body, 81920, context.RequestAborted).ConfigureAwait(false);
        }
    }

    public static async Task<IResult> DeleteAsync(HttpContext context, string name, IFileService files)
    {
        await files.DeleteAsync(context.Caller(), name, context.RequestAborted).ConfigureAwait(false);
        return Results.Json(new EmptyResponse(), GeminiJson.TypeInfo<EmptyResponse>());
    }

    /// <summary>The display name with anything but printable characters (CR, LF, quotes, slashes) replaced; else the file id.</summary>
    private static string DownloadName(FileMetadata file)
    {
        var name = new string((file.DisplayName ?? "").Select(c => char.IsControl(c) || c is '"' or '\\' or '/' ? '_' : c).ToArray()).Trim();
        return name.Length > 0 ? name : file.Id;
    }

    public static FileResource ToWire(FileMetadata file, HttpRequest request) => new()
    {
        Name = FileService.NamePrefix + file.Id,
        DisplayName = file.DisplayName,
        MimeType = file.MimeType,
        SizeBytes = file.SizeBytes.ToString(CultureInfo.InvariantCulture),
        CreateTime = Timestamp(file.CreateTime),
        UpdateTime = Timestamp(file.UpdateTime),
        ExpirationTime = Timestamp(file.ExpirationTime),
        Sha256Hash = Convert.ToBase64String(file.Sha256),
        Uri = $"{PublicUrl.For(request.HttpContext).Base(request)}/{ApiVersion(request)}/files/{file.Id}",
        DownloadUri = $"{PublicUrl.For(request.HttpContext).Base(request)}/{ApiVersion(request)}/files/{file.Id}:download?alt=media",
        State = file.State switch
        {
            FileProcessingState.Processing => "PROCESSING",
            FileProcessingState.Active => "ACTIVE",
            _ => "FAILED",
        },
        Source = "UPLOADED",
        Error = file.State == FileProcessingState.Failed ? new FileStatus { Code = 400, Message = file.ErrorMessage ?? "The file could not be processed." } : null,
    };

    /// <summary>The API version the request came in on (<c>/upload/v1beta/files</c> → v1beta); uris point at the same version.</summary>
    private static string ApiVersion(HttpRequest request)
    {
        var segments = request.Path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
        var version = segments.FirstOrDefault(s => GeminiApi.Versions.Contains(s, StringComparer.OrdinalIgnoreCase));
        return version?.ToLowerInvariant() ?? "v1beta";
    }

    private static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

}
