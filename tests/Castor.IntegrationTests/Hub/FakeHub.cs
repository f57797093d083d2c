using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Castor.IntegrationTests.Hub;

/// <summary>
/// A Hugging Face hub on loopback Kestrel with the hub's URL scheme: <c>/api/models/{repo}/tree/{revision}</c> lists
/// files (size, LFS sha256), <c>/{repo}/resolve/{revision}/{path}</c> answers 302 to a CDN-like <c>/cdn/…</c> path that
/// serves bytes with Range. Repositories can be gated (401 without the token), list a wrong SHA-256, drop the connection
/// part-way through a file, or hold a file's response until a test releases it.
/// </summary>
public sealed class FakeHub : IAsyncDisposable
{
    public const string Token = "hf_test_token";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, FakeRepository> _repositories = new(StringComparer.Ordinal);

    public ConcurrentQueue<CdnRequest> CdnRequests { get; } = new();

    /// <summary>Authorization headers the CDN path received (the token must never reach it).</summary>
    public ConcurrentQueue<string> CdnAuthorizations { get; } = new();

    private FakeHub(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public static async Task<FakeHub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var hub = new FakeHub(app);
        app.MapGet("/api/models/{owner}/{name}/tree/{revision}", hub.Tree);
        app.MapGet("/{owner}/{name}/resolve/{revision}/{**path}", hub.Resolve);
        app.MapGet("/cdn/{owner}/{name}/{**path}", hub.Cdn);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        hub.Url = new Uri(address);
        return hub;
    }

    public FakeRepository Add(string repository, params (string Path, byte[] Content)[] files)
    {
        var repo = new FakeRepository(files.ToDictionary(f => f.Path, f => f.Content, StringComparer.Ordinal));
        _repositories[repository] = repo;
        return repo;
    }

    public int BodyRequestsFor(string path) => CdnRequests.Count(r => r.Path == path);

    private IResult Tree(string owner, string name, string revision, HttpContext context)
    {
        if (Check($"{owner}/{name}", context, out var repo) is { } refused) return refused;
        var entries = repo!.Files.Select(f => new Dictionary<string, object>
        {
            ["type"] = "file",
            ["path"] = f.Key,
            ["size"] = f.Value.Length,
            ["oid"] = "0000000000000000000000000000000000000000",
            ["lfs"] = new Dictionary<string, object>
            {
                ["oid"] = repo.ListedSha256.GetValueOrDefault(f.Key) ?? Convert.ToHexStringLower(SHA256.HashData(f.Value)),
                ["size"] = f.Value.Length,
                ["pointerSize"] = 134,
            },
        });
        return Results.Text(JsonSerializer.Serialize(entries), "application/json");
    }

    private IResult Resolve(string owner, string name, string revision, string path, HttpContext context)
    {
        if (Check($"{owner}/{name}", context, out var repo) is { } refused) return refused;
        if (!repo!.Files.ContainsKey(path)) return Results.Json(new { error = "Entry not found" }, statusCode: 404);
        // Absolute, as the hub's redirects to its CDN are; a different host name than the hub so HttpClient drops the token.
        var cdn = new UriBuilder(Url) { Host = "localhost", Path = $"/cdn/{owner}/{name}/{path}" };
        return Results.Redirect(cdn.Uri.ToString());
    }

    private async Task Cdn(string owner, string name, string path, HttpContext context)
    {
        if (context.Request.Headers.Authorization.Count > 0) CdnAuthorizations.Enqueue(context.Request.Headers.Authorization.ToString());
        if (!_repositories.TryGetValue($"{owner}/{name}", out var repo) || !repo.Files.TryGetValue(path, out var content))
        {
            context.Response.StatusCode = 404;
            return;
        }
        var range = context.Request.Headers.Range.ToString();
        long from = 0;
        if (range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
            from = long.Parse(range["bytes=".Length..^1]);
        var request = new CdnRequest(path, range.Length == 0 ? null : range);
        CdnRequests.Enqueue(request);
        repo.Requested(path);

        if (repo.Gates.TryGetValue(path, out var gate)) await gate.Task;

        if (from > 0)
        {
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {from}-{content.Length - 1}/{content.Length}";
        }
        context.Response.ContentLength = content.Length - from;
        var drop = repo.TakeDrop(path);
        var end = drop is { } at && at > from ? Math.Min(at, content.Length) : content.Length;
        await context.Response.Body.WriteAsync(content.AsMemory((int)from, (int)(end - from)));
        if (end < content.Length)
        {
            await context.Response.Body.FlushAsync();
            context.Abort();
        }
    }

    private IResult? Check(string repository, HttpContext context, out FakeRepository? repo)
    {
        if (!_repositories.TryGetValue(repository, out repo))
            return Results.Json(new { error = "Repository not found" }, statusCode: 404);
        if (repo.Gated && context.Request.Headers.Authorization.ToString() != $"Bearer {Token}")
            return Results.Json(new { error = "Access to this model is restricted." }, statusCode: 401);
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>A file request that reached the CDN path, with its Range header.</summary>
public sealed record CdnRequest(string Path, string? Range);

/// <summary>One repository of the <see cref="FakeHub"/> and the failures it is told to produce.</summary>
public sealed class FakeRepository(Dictionary<string, byte[]> files)
{
    public Dictionary<string, byte[]> Files { get; } = files;
    public bool Gated { get; set; }

    /// <summary>A SHA-256 to list instead of the file's own.</summary>
    public ConcurrentDictionary<string, string> ListedSha256 { get; } = new();

    /// <summary>Responses for a path wait for this before sending a byte.</summary>
    public ConcurrentDictionary<string, TaskCompletionSource> Gates { get; } = new();

    /// <summary>Completes when a path's body is first requested.</summary>
    public ConcurrentDictionary<string, TaskCompletionSource> FirstRequest { get; } = new();

    private readonly ConcurrentDictionary<string, ConcurrentQueue<long>> _drops = new();

    /// <summary>The next responses for a path stop after these byte offsets and abort the connection, one per response.</summary>
    public void DropAt(string path, params long[] offsets) => _drops[path] = new ConcurrentQueue<long>(offsets);

    internal long? TakeDrop(string path) =>
        _drops.TryGetValue(path, out var queue) && queue.TryDequeue(out var at) ? at : null;

    internal void Requested(string path)
    {
        if (FirstRequest.TryGetValue(path, out var first)) first.TrySetResult();
    }
}
