using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Castor.IntegrationTests.Robustness;

/// <summary>What came back for one fuzz request: a status, headers and body, or why nothing did.</summary>
public sealed record FuzzResponse(int Status, string? ContentType, byte[] Body, string? TransportFailure, TimeSpan Elapsed)
{
    public string BodyText => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// Sends <see cref="FuzzRequest"/>s exactly as written: paths are not canonicalised (so <c>..</c> and <c>%2F</c>
/// reach the server), odd content types go out unvalidated, and a chunked body has no Content-Length.
/// </summary>
public static class FuzzClient
{
    public const string BadKey = "AIzaSyNotARealKey-robustness-0000000000";

    public static HttpClient Create() => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        MaxConnectionsPerServer = 32,
        // Lets a non-ASCII header value leave the client (as Latin-1), so the server's handling of it is what gets tested.
        RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1,
    })
    {
        // Each send has its own deadline (below); the client's would hide which request hung.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public static async Task<FuzzResponse> SendAsync(HttpClient client, Uri baseAddress, FuzzRequest request, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var cts = new CancellationTokenSource(timeout);
        // A request the test cannot even build is the test's fault, not the server's: let it throw.
        using var message = Build(baseAddress, request);
        try
        {
            using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            var body = await response.Content.ReadAsByteArrayAsync(cts.Token);
            return new FuzzResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), body, null, clock.Elapsed);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            return new FuzzResponse(0, null, [], $"no complete response within {timeout.TotalSeconds:0} s (hang)", clock.Elapsed);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidOperationException or OperationCanceledException)
        {
            return new FuzzResponse(0, null, [], "no response: " + Flatten(ex), clock.Elapsed);
        }
    }

    public static HttpRequestMessage Build(Uri baseAddress, FuzzRequest request)
    {
        var path = request.Path;
        var query = request.Key switch
        {
            KeyMode.ValidQuery => "key=" + CastorServerFixture.ApiKey,
            KeyMode.BadQuery => "key=" + BadKey,
            _ => null,
        };
        if (query is not null) path += (path.Contains('?') ? "&" : "?") + query;

        var uri = new Uri(baseAddress.GetLeftPart(UriPartial.Authority) + path,
            new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        var message = new HttpRequestMessage(new HttpMethod(request.Method), uri);
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        switch (request.Key)
        {
            case KeyMode.Valid: message.Headers.TryAddWithoutValidation("x-goog-api-key", CastorServerFixture.ApiKey); break;
            case KeyMode.Blank: message.Headers.TryAddWithoutValidation("x-goog-api-key", "   "); break;
            case KeyMode.Bad: message.Headers.TryAddWithoutValidation("x-goog-api-key", BadKey); break;
            case KeyMode.LongBad: message.Headers.TryAddWithoutValidation("x-goog-api-key", new string('k', 10_000)); break;
            case KeyMode.Padded: message.Headers.TryAddWithoutValidation("x-goog-api-key", "  " + CastorServerFixture.ApiKey + "\t"); break;
            case KeyMode.NonAscii: message.Headers.TryAddWithoutValidation("x-goog-api-key", "cl\u00e9-" + CastorServerFixture.ApiKey); break;
            case KeyMode.ValidBearer: message.Headers.TryAddWithoutValidation("Authorization", "Bearer " + CastorServerFixture.ApiKey); break;
            case KeyMode.BadBearer: message.Headers.TryAddWithoutValidation("Authorization", "Bearer " + BadKey); break;
            case KeyMode.EmptyBearer: message.Headers.TryAddWithoutValidation("Authorization", "Bearer "); break;
            case KeyMode.Basic: message.Headers.TryAddWithoutValidation("Authorization", "Basic dXNlcjpwYXNz"); break;
        }

        if (request.Body is { } body)
        {
            HttpContent content = request.Chunked ? new ChunkedContent(body) : new ByteArrayContent(body);
            if (request.ContentType is { } contentType)
                content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            if (request.Chunked) message.Headers.TransferEncodingChunked = true;
            message.Content = content;
        }
        foreach (var (name, value) in request.Headers)
        {
            if (!message.Headers.TryAddWithoutValidation(name, value))
                message.Content?.Headers.TryAddWithoutValidation(name, value);
        }
        return message;
    }

    private static string Flatten(Exception ex)
    {
        var parts = new List<string>();
        for (Exception? e = ex; e is not null; e = e.InnerException) parts.Add($"{e.GetType().Name}: {e.Message}");
        return string.Join(" ← ", parts);
    }

    /// <summary>A body of unknown length, so HttpClient sends it chunked.</summary>
    private sealed class ChunkedContent(byte[] body) : HttpContent
    {
        private const int ChunkSize = 64 * 1024;

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            for (var offset = 0; offset < body.Length; offset += ChunkSize)
                await stream.WriteAsync(body.AsMemory(offset, Math.Min(ChunkSize, body.Length - offset)), cancellationToken);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
