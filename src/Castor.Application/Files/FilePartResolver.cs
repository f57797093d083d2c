using System.Text;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Storage.Files;

namespace Castor.Application.Files;

/// <summary>
/// Turns <c>fileData</c> and <c>inlineData</c> parts into the text a text-only model reads, before a request reaches
/// <see cref="GenerationService"/> (generateContent, streamGenerateContent and countTokens alike, so counts agree):
/// text-like types as their UTF-8 text, PDFs as their text page by page. Types the model cannot read are refused with
/// a 400 naming the type, never dropped. Files must belong to the caller's project and be ACTIVE.
/// </summary>
public sealed class FilePartResolver(IFileStore store, FileContentStore content, FileLimits limits, PdfExtractor pdfs)
{
    public async Task<GenerationRequest> ResolveAsync(GenerationRequest request, string projectId, CancellationToken cancellationToken)
    {
        if (!HasData(request.SystemInstruction) && !request.Contents.Any(HasData)) return request;
        var contents = new List<Content>(request.Contents.Count);
        for (var i = 0; i < request.Contents.Count; i++)
            contents.Add(await ResolveAsync(request.Contents[i], $"contents[{i}]", projectId, cancellationToken).ConfigureAwait(false));
        var system = request.SystemInstruction is { } s ? await ResolveAsync(s, "systemInstruction", projectId, cancellationToken).ConfigureAwait(false) : null;
        return request with { Contents = contents, SystemInstruction = system };
    }

    private static bool HasData(Content? content) => content?.Parts.Any(p => p is InlineDataPart or FileDataPart) == true;

    private async Task<Content> ResolveAsync(Content content, string path, string projectId, CancellationToken cancellationToken)
    {
        if (!HasData(content)) return content;
        var parts = new List<Part>(content.Parts.Count);
        for (var j = 0; j < content.Parts.Count; j++)
        {
            var field = $"{path}.parts[{j}]";
            parts.Add(content.Parts[j] switch
            {
                InlineDataPart inline => new TextPart(await InlineTextAsync(inline, field + ".inlineData", cancellationToken).ConfigureAwait(false))
                    { ThoughtSignature = inline.ThoughtSignature },
                FileDataPart file => new TextPart(await FileTextAsync(file, field + ".fileData", projectId, cancellationToken).ConfigureAwait(false))
                    { ThoughtSignature = file.ThoughtSignature },
                var other => other,
            });
        }
        return content with { Parts = parts };
    }

    private async Task<string> InlineTextAsync(InlineDataPart inline, string field, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(inline.MimeType))
            throw CastorException.InvalidField(field + ".mimeType", "inline data needs a mimeType.");
        RequireReadable(inline.MimeType, field + ".mimeType");
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(inline.Base64Data.Replace('-', '+').Replace('_', '/').PadRight((inline.Base64Data.Length + 3) / 4 * 4, '='));
        }
        catch (FormatException)
        {
            throw CastorException.InvalidField(field + ".data", "the data is not valid base64.");
        }
        if (MediaTypes.IsPdf(inline.MimeType))
        {
            try
            {
                using var pdf = new MemoryStream(bytes, writable: false);
                return await pdfs.ExtractAsync(pdf, cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidDataException ex)
            {
                throw CastorException.InvalidField(field + ".data", ex.Message);
            }
        }
        return DecodeText(bytes, field + ".data");
    }

    private async Task<string> FileTextAsync(FileDataPart part, string field, string projectId, CancellationToken cancellationToken)
    {
        var id = FileIdFromUri(part.FileUri, field + ".fileUri");
        var file = await store.GetAsync(projectId, id, cancellationToken).ConfigureAwait(false);
        // Google answers a file of another project exactly like a missing one.
        if (file is null)
            throw new CastorException(ErrorStatus.PermissionDenied, $"You do not have permission to access the File {id} or it may not exist.");
        if (file.State != FileState.Active)
            throw new CastorException(ErrorStatus.FailedPrecondition,
                $"The File {id} is not in an ACTIVE state and usage is not allowed." + (file.State == FileState.Failed && file.ErrorMessage is { } e ? " " + e : ""));
        RequireReadable(file.MimeType, field + ".mimeType");

        try
        {
            if (MediaTypes.IsPdf(file.MimeType))
                return await File.ReadAllTextAsync(content.TextPath(projectId, id), cancellationToken).ConfigureAwait(false);
            if (file.SizeBytes > limits.MaxPromptTextBytes)
                throw CastorException.InvalidField(field,
                    $"the file {FileService.NamePrefix}{id} has {file.SizeBytes} bytes of text; at most {limits.MaxPromptTextBytes} bytes of one file can go into a prompt.");
            var bytes = await File.ReadAllBytesAsync(content.FilePath(projectId, id), cancellationToken).ConfigureAwait(false);
            return DecodeText(bytes, field);
        }
        catch (FileNotFoundException)
        {
            // Deleted (or expired) between the lookup and the read.
            throw new CastorException(ErrorStatus.PermissionDenied, $"You do not have permission to access the File {id} or it may not exist.");
        }
    }

    /// <summary>Refuses, by name, the media a text-only model cannot read.</summary>
    private static void RequireReadable(string mimeType, string field)
    {
        if (MediaTypes.IsText(mimeType) || MediaTypes.IsPdf(mimeType)) return;
        var essence = MediaTypes.Essence(mimeType);
        var kind = essence.Split('/')[0] switch
        {
            "image" => "Images",
            "audio" => "Audio",
            "video" => "Video",
            _ => "This type",
        };
        throw CastorException.InvalidField(field,
            $"Unsupported MIME type: {essence}. {kind} cannot be read by this server's text-only models; send text (text/*, JSON, code, CSV, HTML, XML) or application/pdf.");
    }

    private string DecodeText(byte[] bytes, string field)
    {
        if (bytes.Length > limits.MaxPromptTextBytes)
            throw CastorException.InvalidField(field, $"the data has {bytes.Length} bytes of text; at most {limits.MaxPromptTextBytes} bytes of one part can go into a prompt.");
        // Invalid UTF-8 becomes U+FFFD rather than a failure: text files in other encodings still mostly read.
        var text = Encoding.UTF8.GetString(bytes);
        return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
    }

    /// <summary>
    /// The id in a <c>fileUri</c>: the <c>uri</c> this server returned (<c>http://host:port/v1beta/files/abc</c>), the same
    /// path on another host (the SDKs keep Google's host in some flows), or the resource name <c>files/abc</c>.
    /// </summary>
    internal static string FileIdFromUri(string fileUri, string field)
    {
        var value = fileUri.Trim();
        if (value.Length == 0) throw CastorException.InvalidField(field, "fileUri is required.");
        string path;
        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            path = uri.AbsolutePath.Trim('/');
        else if (value.StartsWith(FileService.NamePrefix, StringComparison.Ordinal))
            path = value;
        else
            throw CastorException.InvalidField(field, $"'{fileUri}' is not a file of this server; use the uri or name (files/ID) returned by the upload.");

        var segments = path.Split('/');
        var at = Array.LastIndexOf(segments, "files");
        if (at < 0 || at != segments.Length - 2 || (at > 0 && !segments[at - 1].StartsWith("v1", StringComparison.Ordinal)))
            throw CastorException.InvalidField(field, $"'{fileUri}' is not a file of this server; use the uri or name (files/ID) returned by the upload.");
        return FileService.ParseName(segments[^1], field);
    }
}
