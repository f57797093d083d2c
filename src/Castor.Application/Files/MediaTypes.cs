namespace Castor.Application.Files;

/// <summary>Which MIME types a text-only model can read, and how.</summary>
public static class MediaTypes
{
    public const string Pdf = "application/pdf";

    private static readonly HashSet<string> TextApplicationTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "application/json", "application/jsonl", "application/x-ndjson", "application/ld+json", "application/xml", "application/xhtml+xml",
        "application/javascript", "application/x-javascript", "application/ecmascript", "application/typescript", "application/x-typescript",
        "application/x-python", "application/x-python-code", "application/x-sh", "application/x-shellscript", "application/sql",
        "application/x-yaml", "application/yaml", "application/toml", "application/csv", "application/x-csv", "application/rtf",
        "application/x-tex", "application/x-latex", "application/graphql", "application/x-httpd-php", "application/x-php",
        "application/x-ruby", "application/x-perl", "application/x-java-source", "application/x-c", "application/x-c++",
        // Batch inputs are uploaded with the bare extension as their type (mime_type='jsonl').
        "jsonl",
    };

    /// <summary>The type without parameters, lower-cased: <c>text/plain; charset=utf-8</c> → <c>text/plain</c>.</summary>
    public static string Essence(string? mimeType)
    {
        var value = mimeType ?? "";
        var semicolon = value.IndexOf(';');
        return (semicolon >= 0 ? value[..semicolon] : value).Trim().ToLowerInvariant();
    }

    /// <summary>Text, JSON, code, CSV, HTML, XML: types that enter the prompt as their UTF-8 text.</summary>
    public static bool IsText(string? mimeType)
    {
        var essence = Essence(mimeType);
        return essence.StartsWith("text/", StringComparison.Ordinal)
               || TextApplicationTypes.Contains(essence)
               || essence.EndsWith("+json", StringComparison.Ordinal)
               || essence.EndsWith("+xml", StringComparison.Ordinal);
    }

    public static bool IsPdf(string? mimeType) => Essence(mimeType) == Pdf;

    /// <summary>The longest type string accepted, parameters included.</summary>
    public const int MaxLength = 255;

    /// <summary>
    /// A type string the API would accept: <c>type/subtype</c> with optional <c>;name=value</c> parameters, parsed as an
    /// HTTP media type (it is sent back as a Content-Type header, so CR, LF or any control character could split or
    /// break that header), or a bare extension such as <c>jsonl</c>. Printable ASCII only, at most <see cref="MaxLength"/>.
    /// </summary>
    public static bool IsWellFormed(string? mimeType)
    {
        if (string.IsNullOrEmpty(mimeType) || mimeType.Length > MaxLength) return false;
        foreach (var c in mimeType)
            if (c is < ' ' or > '~') return false;
        var essence = Essence(mimeType);
        if (essence.Length == 0) return false;
        foreach (var c in essence)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '+' or '-' or '_')) return false;
        if (!essence.Contains('/')) return !mimeType.Contains(';');
        return essence.Count(c => c == '/') == 1 && !essence.StartsWith('/') && !essence.EndsWith('/')
               && System.Net.Http.Headers.MediaTypeHeaderValue.TryParse(mimeType, out _);
    }

    /// <summary>A type string fit to quote in an error: control characters escaped, cut to a readable length.</summary>
    public static string Printable(string value)
    {
        var text = new System.Text.StringBuilder();
        foreach (var c in value.Length > 100 ? value[..100] : value)
            text.Append(c is < ' ' or (> '~' and < '\u00a0') ? $"\\u{(int)c:x4}" : c.ToString());
        return value.Length > 100 ? text + "…" : text.ToString();
    }
}
