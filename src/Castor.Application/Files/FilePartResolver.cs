using System.Text;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Media;
using Castor.Engine.Media;
using Castor.Storage.Files;

namespace Castor.Application.Files;

/// <summary>
/// Turns <c>fileData</c> and <c>inlineData</c> parts into what the model reads, before a request reaches
/// <see cref="GenerationService"/> (generateContent, streamGenerateContent and countTokens alike, so counts agree):
/// text-like types as their UTF-8 text, PDFs as their text page by page, images and audio as a decoded
/// <see cref="MediaPart"/> in the same place (when the model has a projector for them; see <see cref="MediaTarget"/>).
/// Types the model cannot read are refused with a 400 naming the part and the type, never dropped. Files must belong
/// to the caller's project and be ACTIVE.
/// </summary>
public sealed class FilePartResolver(IFileStore store, FileContentStore content, FileLimits limits, PdfExtractor pdfs,
    IMediaDecoder? decoder = null, MediaLimits? mediaLimits = null)
{
    private readonly IMediaDecoder _decoder = decoder ?? new MediaDecoder();
    private readonly MediaLimits _media = mediaLimits ?? new MediaLimits();

    /// <summary>Resolves the request's data parts; media goes to a model without projectors (a text-only model).</summary>
    public Task<GenerationRequest> ResolveAsync(GenerationRequest request, string projectId, CancellationToken cancellationToken) =>
        ResolveAsync(request, projectId, () => new MediaTarget(request.Model, MediaSupport.None), cancellationToken);

    /// <summary>
    /// Resolves the request's data parts. <paramref name="target"/> says which model the media is for and what it reads;
    /// it is asked once, and only when the request holds an image or audio part, before anything is decoded (a model
    /// that cannot read a part refuses it without the cost of decoding it).
    /// </summary>
    public async Task<GenerationRequest> ResolveAsync(GenerationRequest request, string projectId, Func<MediaTarget> target, CancellationToken cancellationToken)
    {
        if (!HasData(request.SystemInstruction) && !request.Contents.Any(HasData)) return request;
        var media = new MediaBudget(new Lazy<MediaTarget>(target, LazyThreadSafetyMode.None), _media);
        var contents = new List<Content>(request.Contents.Count);
        for (var i = 0; i < request.Contents.Count; i++)
            contents.Add(await ResolveAsync(request.Contents[i], $"contents[{i}]", projectId, media, cancellationToken).ConfigureAwait(false));
        var system = request.SystemInstruction is { } s ? await ResolveAsync(s, "systemInstruction", projectId, media, cancellationToken).ConfigureAwait(false) : null;
        return request with { Contents = contents, SystemInstruction = system };
    }

    private static bool HasData(Content? content) => content?.Parts.Any(p => p is InlineDataPart or FileDataPart) == true;

    private async Task<Content> ResolveAsync(Content content, string path, string projectId, MediaBudget media, CancellationToken cancellationToken)
    {
        if (!HasData(content)) return content;
        var parts = new List<Part>(content.Parts.Count);
        for (var j = 0; j < content.Parts.Count; j++)
        {
            var field = $"{path}.parts[{j}]";
            parts.Add(content.Parts[j] switch
            {
                InlineDataPart inline when MediaFormats.KindOf(inline.MimeType) is { } kind =>
                    await InlineMediaAsync(inline, kind, field + ".inlineData", media, cancellationToken).ConfigureAwait(false),
                InlineDataPart inline => new TextPart(await InlineTextAsync(inline, field + ".inlineData", cancellationToken).ConfigureAwait(false))
                    { ThoughtSignature = inline.ThoughtSignature },
                FileDataPart file => await FilePartAsync(file, field + ".fileData", projectId, media, cancellationToken).ConfigureAwait(false),
                var other => other,
            });
        }
        return content with { Parts = parts };
    }

    /// <summary>
    /// An image or audio part, checked in order of cost: a type the API accepts, a model that reads it, the size of
    /// its base64, then the decode.
    /// </summary>
    private async Task<Part> InlineMediaAsync(InlineDataPart inline, MediaKind kind, string field, MediaBudget media, CancellationToken cancellationToken)
    {
        var path = FieldPath.Parse(field);
        RequireMedia(inline.MimeType, kind, path.Field("mimeType"), media.Target);
        media.Count(path);
        // Three bytes per four characters: the bound holds before a byte is decoded.
        if (inline.Base64Data.Length / 4L * 3 > _media.MaxInlineBytes)
            throw CastorException.InvalidField(path.Field("data"),
                $"the inline data is larger than {_media.MaxInlineBytes} bytes (the API's inline request limit); upload the file with the Files API and send it as fileData.");
        var bytes = DecodeBase64(inline.Base64Data, field + ".data");
        var decoded = await _decoder.DecodeAsync(inline.MimeType, bytes, _media, media.Target.Support.AudioSampleRate, path, cancellationToken).ConfigureAwait(false);
        media.Spend(decoded, path);
        return new MediaPart(decoded, inline.MediaResolution) { ThoughtSignature = inline.ThoughtSignature };
    }

    private async Task<Part> FilePartAsync(FileDataPart part, string field, string projectId, MediaBudget media, CancellationToken cancellationToken)
    {
        var id = FileIdFromUri(part.FileUri, field + ".fileUri");
        var file = await ActiveFileAsync(projectId, id, cancellationToken).ConfigureAwait(false);
        if (MediaFormats.KindOf(file.MimeType) is not { } kind)
            return new TextPart(await FileTextAsync(file, field, projectId, cancellationToken).ConfigureAwait(false)) { ThoughtSignature = part.ThoughtSignature };

        var path = FieldPath.Parse(field);
        RequireMedia(file.MimeType, kind, path.Field("mimeType"), media.Target);
        media.Count(path);
        if (file.SizeBytes > _media.MaxFileBytes)
            throw CastorException.InvalidField(path,
                $"the file {FileService.NamePrefix}{id} has {file.SizeBytes} bytes; media files of at most {_media.MaxFileBytes} bytes can go into a prompt.");
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(content.FilePath(projectId, id), cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            throw NoSuchFile(id);
        }
        var decoded = await _decoder.DecodeAsync(file.MimeType, bytes, _media, media.Target.Support.AudioSampleRate, path, cancellationToken).ConfigureAwait(false);
        media.Spend(decoded, path);
        return new MediaPart(decoded, part.MediaResolution) { ThoughtSignature = part.ThoughtSignature };
    }

    /// <summary>
    /// A type the API accepts, for a model that can read it; otherwise a 400 on the part's mimeType that names the type
    /// and says which of the two failed.
    /// </summary>
    private static void RequireMedia(string mimeType, MediaKind kind, FieldPath typeField, MediaTarget target)
    {
        if (MediaFormats.Of(mimeType) is null)
            throw CastorException.InvalidField(typeField, MediaDecoder.Unaccepted(mimeType));
        if (!target.Support.Accepts(kind))
        {
            var type = MediaTypes.Essence(mimeType);
            throw CastorException.InvalidField(typeField, kind == MediaKind.Image
                ? $"the model '{target.ModelId}' has no vision projector, so it cannot read {type} or any other image; serve a vision model with its mmproj file, or send text."
                : $"the model '{target.ModelId}' has no audio projector, so it cannot read {type} or any other audio; serve an audio model with its mmproj file, or send text.");
        }
    }

    private async Task<StoredFile> ActiveFileAsync(string projectId, string id, CancellationToken cancellationToken)
    {
        var file = await store.GetAsync(projectId, id, cancellationToken).ConfigureAwait(false);
        // Google answers a file of another project exactly like a missing one.
        if (file is null) throw NoSuchFile(id);
        if (file.State != FileState.Active)
            throw new CastorException(ErrorStatus.FailedPrecondition,
                $"The File {id} is not in an ACTIVE state and usage is not allowed." + (file.State == FileState.Failed && file.ErrorMessage is { } e ? " " + e : ""));
        return file;
    }

    private static CastorException NoSuchFile(string id) =>
        new(ErrorStatus.PermissionDenied, $"You do not have permission to access the File {id} or it may not exist.");

    private static byte[] DecodeBase64(string base64, string field)
    {
        try
        {
            return Convert.FromBase64String(base64.Replace('-', '+').Replace('_', '/').PadRight((base64.Length + 3) / 4 * 4, '='));
        }
        catch (FormatException)
        {
            throw CastorException.InvalidField(field, "the data is not valid base64.");
        }
    }

    private async Task<string> InlineTextAsync(InlineDataPart inline, string field, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(inline.MimeType))
            throw CastorException.InvalidField(field + ".mimeType", "inline data needs a mimeType.");
        RequireReadable(inline.MimeType, field + ".mimeType");
        var bytes = DecodeBase64(inline.Base64Data, field + ".data");
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

    private async Task<string> FileTextAsync(StoredFile file, string field, string projectId, CancellationToken cancellationToken)
    {
        var id = file.Id;
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
            throw NoSuchFile(id);
        }
    }

    /// <summary>Refuses, by name, a type that is neither text, PDF, an image nor audio (video, archives, binaries).</summary>
    private static void RequireReadable(string mimeType, string field)
    {
        if (MediaTypes.IsText(mimeType) || MediaTypes.IsPdf(mimeType)) return;
        var essence = MediaTypes.Essence(mimeType);
        var kind = essence.Split('/')[0] switch
        {
            "video" => "Video",
            _ => "This type",
        };
        throw CastorException.InvalidField(field,
            $"Unsupported MIME type: {essence}. {kind} cannot be read by this server; send text (text/*, JSON, code, CSV, HTML, XML), application/pdf, " +
            $"an image ({MediaFormats.ImageTypes}) or audio ({MediaFormats.AudioTypes}).");
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

    /// <summary>One request's media: the model it is for (asked once, on the first media part) and what its parts have used of the limits.</summary>
    private sealed class MediaBudget(Lazy<MediaTarget> target, MediaLimits limits)
    {
        private int _parts;
        private long _bytes;

        public MediaTarget Target => target.Value;

        public void Count(FieldPath part)
        {
            if (++_parts > limits.MaxPartsPerRequest)
                throw CastorException.InvalidField(part, $"a request may hold at most {limits.MaxPartsPerRequest} image and audio parts.");
        }

        public void Spend(DecodedMedia media, FieldPath part)
        {
            _bytes += media switch
            {
                DecodedImage image => image.Rgb.LongLength,
                DecodedAudio audio => audio.Samples.LongLength * sizeof(float),
                _ => 0,
            };
            if (_bytes > limits.MaxDecodedBytesPerRequest)
                throw CastorException.InvalidField(part,
                    $"the request's images and audio decode to more than {limits.MaxDecodedBytesPerRequest} bytes together; send fewer or smaller ones.");
        }
    }
}
