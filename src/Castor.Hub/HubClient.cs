using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Castor.Hub;

/// <summary>
/// Talks to a Hugging Face hub: lists a repository (<c>/api/models/{repo}/tree/{revision}</c>) and opens a file
/// (<c>/{repo}/resolve/{revision}/{path}</c>, following the redirect to its CDN), from an offset with <c>Range</c>.
/// </summary>
public sealed class HubClient : IDisposable
{
    private readonly HttpClient _http;

    public HubClient(Uri endpoint, string? token, HttpMessageHandler? handler = null)
    {
        Endpoint = endpoint;
        // Uri.ToString() ends a bare host with '/', and the hub answers 404 to "//api/…".
        _base = endpoint.ToString().TrimEnd('/');
        // HttpClient drops Authorization when a redirect leaves the hub's host, so the token never reaches the CDN.
        _http = handler is null
            ? new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = true, MaxAutomaticRedirections = 10, ConnectTimeout = TimeSpan.FromSeconds(15) })
            : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = Timeout.InfiniteTimeSpan;
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("castor", "0.1"));
        if (token is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        HasToken = token is not null;
    }

    private readonly string _base;

    public Uri Endpoint { get; }
    public bool HasToken { get; }

    /// <summary>Every file of the repository at the revision, following the listing's pages (<c>Link: rel="next"</c>).</summary>
    public async Task<IReadOnlyList<HubFile>> ListFilesAsync(string repository, string revision, CancellationToken cancellationToken)
    {
        var files = new List<HubFile>();
        Uri? next = new($"{_base}/api/models/{repository}/tree/{Uri.EscapeDataString(revision)}?recursive=true");
        while (next is not null)
        {
            using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, next), repository, null, cancellationToken);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
            if (json.RootElement.ValueKind != JsonValueKind.Array)
                throw new PullException(PullFailure.Other, $"The hub at {_base} answered the listing of {repository} with something other than a file list.");
            foreach (var entry in json.RootElement.EnumerateArray())
            {
                if (entry.TryGetProperty("type", out var type) && type.GetString() != "file") continue;
                var path = entry.GetProperty("path").GetString()!;
                var size = entry.TryGetProperty("size", out var s) ? s.GetInt64() : 0;
                string? sha = null;
                if (entry.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object)
                {
                    sha = lfs.TryGetProperty("oid", out var oid) ? oid.GetString()?.ToLowerInvariant() : null;
                    if (lfs.TryGetProperty("size", out var lfsSize)) size = lfsSize.GetInt64();
                }
                files.Add(new HubFile(path, size, sha));
            }
            next = NextPage(response);
        }
        return files;
    }

    /// <summary>
    /// Opens a file from <paramref name="offset"/>. The response's status tells whether the server honoured the range
    /// (206) or sent the whole file (200); the caller must dispose it.
    /// </summary>
    public Task<HttpResponseMessage> OpenFileAsync(string repository, string revision, string path, long offset, CancellationToken cancellationToken)
    {
        var escaped = string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{_base}/{repository}/resolve/{Uri.EscapeDataString(revision)}/{escaped}"));
        if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
        return SendAsync(request, repository, path, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string repository, string? path, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new PullException(PullFailure.Unreachable, $"Cannot reach the hub at {_base} ({ex.Message}).", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PullException(PullFailure.Unreachable, $"The hub at {_base} did not answer in time.", ex);
        }
        finally
        {
            request.Dispose();
        }
        if (response.IsSuccessStatusCode) return response;

        var status = response.StatusCode;
        response.Dispose();
        var what = path is null ? $"the repository {repository}" : $"{path} in {repository}";
        var noWhat = path is null ? $"repository {repository}" : $"file {path} in {repository}";
        throw status switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden when HasToken => new PullException(PullFailure.Unauthorized,
                $"The hub refused {what} ({(int)status}): the token in HF_TOKEN has no access to it. If the repository is gated, " +
                $"accept its terms on {_base}/{repository} with the account the token belongs to, then pull again."),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new PullException(PullFailure.Unauthorized,
                $"The hub refused {what} ({(int)status}): it is gated or private (or does not exist). Accept its terms on " +
                $"{_base}/{repository}, create a read token at {_base}/settings/tokens and set HF_TOKEN to it (or Hub:Token), then pull again."),
            HttpStatusCode.NotFound => new PullException(PullFailure.NotFound,
                $"The hub at {_base} has no {noWhat} (404). Check the owner, name{(path is null ? " and revision" : " and file")}."),
            _ => new PullException((int)status >= 500 ? PullFailure.Unreachable : PullFailure.Other,
                $"The hub at {_base} answered {(int)status} {status} for {what}."),
        };
    }

    private static Uri? NextPage(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links)) return null;
        foreach (var link in links.SelectMany(l => l.Split(',')))
        {
            var parts = link.Split(';');
            if (parts.Length < 2 || !parts.Skip(1).Any(p => p.Trim() is "rel=\"next\"" or "rel=next")) continue;
            var target = parts[0].Trim().TrimStart('<').TrimEnd('>');
            if (Uri.TryCreate(target, UriKind.Absolute, out var uri)) return uri;
        }
        return null;
    }

    public void Dispose()
    {
        _http.Dispose();
    }
}
