using System.Text;

namespace Castor.IntegrationTests.Robustness;

/// <summary>How a fuzz request identifies its caller.</summary>
public enum KeyMode
{
    /// <summary><c>x-goog-api-key</c> with the test key, as every SDK sends it.</summary>
    Valid,
    Missing,
    /// <summary><c>x-goog-api-key: "   "</c>: present but blank, which is no key.</summary>
    Blank,
    Bad,
    /// <summary>A 10 KB key that is not registered.</summary>
    LongBad,
    /// <summary>The test key with spaces around it (the server trims).</summary>
    Padded,
    /// <summary>A key with a non-ASCII (Latin-1) character in the header.</summary>
    NonAscii,
    ValidQuery,
    BadQuery,
    ValidBearer,
    BadBearer,
    /// <summary><c>Authorization: Bearer </c> with nothing after it.</summary>
    EmptyBearer,
    /// <summary><c>Authorization: Basic …</c>, which carries no API key.</summary>
    Basic,
}

/// <summary>One hostile request and what, beyond the universal invariants, its answer must be.</summary>
public sealed record FuzzRequest(string Label, string Method, string Path)
{
    public byte[]? Body { get; init; }

    /// <summary>The Content-Type header sent with a body; null sends none.</summary>
    public string? ContentType { get; init; } = "application/json";

    public KeyMode Key { get; init; } = KeyMode.Valid;

    /// <summary>Send the body with Transfer-Encoding: chunked and no Content-Length.</summary>
    public bool Chunked { get; init; }

    /// <summary>Extra request (or content) headers, sent unvalidated.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    public int? ExpectedStatus { get; init; }
    public string? ExpectedRpcStatus { get; init; }

    /// <summary>An <c>ErrorInfo.reason</c> that must appear in <c>error.details</c>.</summary>
    public string? ExpectedReason { get; init; }

    /// <summary>Any 4xx will do (wrong methods, unknown paths), but not a success.</summary>
    public bool ExpectClientError { get; init; }

    /// <summary>
    /// Kestrel refuses this request itself (a NUL decoded into the path, a request line or headers over its limits) before
    /// any Castor code runs, with a bare 4xx that no application can reshape. It must still be answered with a 4xx;
    /// the RPC shape is not asked of it.
    /// </summary>
    public bool RejectedByHttpServer { get; init; }

    public int Index { get; init; }

    /// <summary>Everything needed to send the request again by hand.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.Append('#').Append(Index).Append(' ').Append(Label).Append('\n');
        sb.Append("  ").Append(Method).Append(' ').Append(Path.Length > 400 ? Path[..300] + $"…({Path.Length} chars)…" + Path[^60..] : Path).Append('\n');
        sb.Append("  key: ").Append(Key);
        foreach (var (name, value) in Headers) sb.Append(", ").Append(name).Append(": ").Append(value);
        if (Body is not null)
        {
            sb.Append(", content-type: ").Append(ContentType ?? "(none)");
            sb.Append(Chunked ? ", transfer-encoding: chunked" : $", content-length: {Body.Length}");
            sb.Append('\n').Append("  body: ").Append(Preview(Body));
        }
        else
        {
            sb.Append(", no body");
        }
        return sb.ToString();
    }

    /// <summary>The body as a C#-style literal (non-printable and non-ASCII bytes as \xNN), shortened in the middle when long.</summary>
    public static string Preview(byte[] body)
    {
        const int Head = 360, Tail = 120;
        if (body.Length <= Head + Tail) return Escape(body);
        return Escape(body.AsSpan(0, Head)) + $"…[{body.Length - Head - Tail} more bytes]…" + Escape(body.AsSpan(body.Length - Tail));
    }

    private static string Escape(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length + 2).Append('"');
        foreach (var b in bytes)
        {
            if (b == '"') sb.Append("\\\"");
            else if (b == '\\') sb.Append("\\\\");
            else if (b is >= 0x20 and < 0x7F) sb.Append((char)b);
            else sb.Append($"\\x{b:X2}");
        }
        return sb.Append('"').ToString();
    }
}
