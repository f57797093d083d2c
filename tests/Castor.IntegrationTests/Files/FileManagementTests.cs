using System.Net;
using Castor.Application.Files;
using Castor.Storage.Files;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Files;

/// <summary>files.get / list / download / delete, project isolation, quota and the sweeper, on a real server.</summary>
[Collection(FilesCollection.Name)]
public sealed class FileManagementTests(FilesServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();

    [Fact]
    public async Task Listing_pages_through_every_file_once_newest_first()
    {
        using var client = await NewProjectClientAsync();
        var names = new List<string>();
        for (var i = 0; i < 5; i++)
            names.Add((await Uploads.UploadAsync(client, [(byte)i], "text/plain")).GetProperty("name").GetString()!);

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var (status, page) = await client.GetJsonAsync("/v1beta/files?pageSize=2" + (token is null ? "" : "&pageToken=" + token));
            Assert.Equal(200, status);
            var files = page!["files"]!.AsArray();
            Assert.InRange(files.Count, 1, 2);
            seen.AddRange(files.Select(f => (string)f!["name"]!));
            token = (string?)page["nextPageToken"];
            pages++;
        } while (token is not null);

        Assert.Equal(3, pages);
        names.Reverse();
        Assert.Equal(names, seen);

        var (_, all) = await client.GetJsonAsync("/v1beta/files?pageSize=1000");
        Assert.Equal(5, all!["files"]!.AsArray().Count);
        Assert.Null(all["nextPageToken"]);
        // The default page is 10 files.
        var (_, defaults) = await client.GetJsonAsync("/v1beta/files");
        Assert.Equal(5, defaults!["files"]!.AsArray().Count);

        var (badToken, error) = await client.GetJsonAsync("/v1beta/files?pageToken=not-a-token");
        Assert.Equal(400, badToken);
        Assert.Equal("pageToken", (string)Json.AssertRpcError(error, 400, "INVALID_ARGUMENT")["details"]![0]!["fieldViolations"]![0]!["field"]!);
        var (badSize, _) = await client.GetJsonAsync("/v1beta/files?pageSize=ten");
        Assert.Equal(400, badSize);
    }

    [Fact]
    public async Task A_project_with_no_files_lists_an_empty_array()
    {
        using var client = await NewProjectClientAsync();
        var (status, body) = await client.GetJsonAsync("/v1beta/files");
        Assert.Equal(200, status);
        Assert.Empty(body!["files"]!.AsArray());
    }

    [Fact]
    public async Task Delete_removes_the_row_and_the_bytes()
    {
        var file = await Uploads.UploadAsync(_client, "to be deleted"u8.ToArray(), "text/plain");
        var name = file.GetProperty("name").GetString()!;
        var onDisk = Directory.GetFiles(Path.Combine(server.DataFolder, "files"), name["files/".Length..], SearchOption.AllDirectories);
        Assert.Single(onDisk);

        using var delete = new HttpRequestMessage(HttpMethod.Delete, "/v1beta/" + name) { Content = Json.Body("{}") };
        using var deleted = await _client.SendAsync(delete);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal("{}", await deleted.Content.ReadAsStringAsync());
        Assert.False(File.Exists(onDisk[0]));

        var (status, error) = await _client.GetJsonAsync("/v1beta/" + name);
        Assert.Equal(404, status);
        Json.AssertRpcError(error, 404, "NOT_FOUND");
        using var again = await _client.DeleteAsync("/v1beta/" + name);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        using var download = await _client.GetAsync($"/v1beta/{name}:download?alt=media");
        Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
    }

    [Fact]
    public async Task Another_projects_key_sees_nothing_of_a_file_or_an_upload()
    {
        var file = await Uploads.UploadAsync(_client, "private"u8.ToArray(), "text/plain", displayName: "private.txt");
        var name = file.GetProperty("name").GetString()!;
        using var other = server.CreateClient(server.OtherProjectKey);

        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/v1beta/" + name)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/v1beta/{name}:download?alt=media")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync("/v1beta/" + name)).StatusCode);
        var (_, listing) = await other.GetJsonAsync("/v1beta/files?pageSize=100");
        Assert.DoesNotContain(name, listing!.ToJsonString());

        var url = await Uploads.StartAsync(_client, 4, "text/plain");
        using (var foreign = await Uploads.ChunkAsync(other, url, 0, "abcd"u8.ToArray(), finalize: true))
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        using var query = new HttpRequestMessage(HttpMethod.Post, Uploads.PathOf(url));
        query.Headers.Add("X-Goog-Upload-Command", "query");
        Assert.Equal(HttpStatusCode.NotFound, (await other.SendAsync(query)).StatusCode);

        var prompt = $$$"""{"contents":[{"parts":[{"text":"Read:"},{"fileData":{"mimeType":"text/plain","fileUri":"{{{file.GetProperty("uri").GetString()}}}"}}]}]}""";
        var (status, error) = await other.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", prompt);
        Assert.Equal(403, status);
        Json.AssertRpcError(error, 403, "PERMISSION_DENIED");

        // The owner still has all of it.
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/v1beta/" + name)).StatusCode);
        using var finish = await Uploads.ChunkAsync(_client, url, 0, "abcd"u8.ToArray(), finalize: true);
        Assert.Equal(HttpStatusCode.OK, finish.StatusCode);
    }

    [Fact]
    public async Task The_project_quota_counts_stored_files_and_is_per_project()
    {
        using var client = await NewProjectClientAsync();
        var fourMiB = (int)FilesServerFixture.MaxFileBytes;
        await Uploads.UploadAsync(client, new byte[fourMiB], "application/octet-stream", chunkSize: fourMiB);
        await Uploads.UploadAsync(client, new byte[fourMiB], "application/octet-stream", chunkSize: fourMiB);

        using var start = new HttpRequestMessage(HttpMethod.Post, "/upload/v1beta/files");
        start.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        start.Headers.Add("X-Goog-Upload-Command", "start");
        start.Headers.Add("X-Goog-Upload-Header-Content-Length", (3 * 1024 * 1024).ToString());
        start.Content = Json.Body("""{"file":{"mimeType":"text/plain"}}""");
        using var refused = await client.SendAsync(start);
        var error = Json.AssertRpcError(await Json.ReadAsync(refused), 429, "RESOURCE_EXHAUSTED");
        Assert.Contains(FilesServerFixture.ProjectQuotaBytes.ToString(), (string)error["message"]!);

        // Still room for what fits, and other projects are unaffected.
        await Uploads.UploadAsync(client, new byte[1024 * 1024], "text/plain");
        await Uploads.UploadAsync(_client, new byte[3 * 1024 * 1024], "text/plain", chunkSize: 3 * 1024 * 1024);
    }

    [Fact]
    public async Task The_sweeper_deletes_expired_files_and_uploads_and_orphaned_bytes_but_nothing_live()
    {
        using var client = await NewProjectClientAsync();
        var kept = (await Uploads.UploadAsync(client, "fresh"u8.ToArray(), "text/plain")).GetProperty("name").GetString()!;
        var services = server.App.Services;
        var store = services.GetRequiredService<IFileStore>();
        var content = services.GetRequiredService<FileContentStore>();
        var sweeper = services.GetRequiredService<FileSweeper>();
        var now = DateTimeOffset.UtcNow;

        // Rows made to expire already: a file and an upload, in this test's own project.
        var (expiring, expiringUpload) = await SeedExpiredAsync(client, store, content, now);
        // Bytes that no row claims, as a crash between deleting a row and its bytes leaves them.
        var projectFolder = Path.GetDirectoryName(content.FilePath(expiring.ProjectId, "x"))!;
        var orphan = Path.Combine(projectFolder, "orphan-file");
        await File.WriteAllTextAsync(orphan, "left behind");
        File.SetLastWriteTimeUtc(orphan, now.AddHours(-1).UtcDateTime);
        var freshOrphan = Path.Combine(projectFolder, "being-written");
        await File.WriteAllTextAsync(freshOrphan, "an upload committing right now");

        var result = await sweeper.SweepAsync(now, CancellationToken.None);

        Assert.True(result.ExpiredFiles >= 1 && result.ExpiredUploads >= 1 && result.OrphanedBytes >= 1, result.ToString());
        Assert.Null(await store.GetAsync(expiring.ProjectId, expiring.Id));
        Assert.False(File.Exists(content.FilePath(expiring.ProjectId, expiring.Id)));
        Assert.Null(await store.FindUploadAsync(expiringUpload));
        Assert.False(File.Exists(content.PartPath(expiring.ProjectId, expiringUpload)));
        Assert.False(File.Exists(orphan));
        Assert.True(File.Exists(freshOrphan)); // within the grace period
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1beta/" + kept)).StatusCode);
        Assert.Equal("fresh", await client.GetStringAsync($"/v1beta/{kept}:download?alt=media"));
        File.Delete(freshOrphan);
    }

    private async Task<(StoredFile File, string UploadId)> SeedExpiredAsync(HttpClient client, IFileStore store, FileContentStore content, DateTimeOffset now)
    {
        var name = (await Uploads.UploadAsync(client, "old"u8.ToArray(), "text/plain")).GetProperty("name").GetString()!;
        var url = await Uploads.StartAsync(client, 10, "text/plain");
        (await Uploads.ChunkAsync(client, url, 0, new byte[5], finalize: false)).Dispose();
        var uploadId = new Uri(url).Query.Split('&')[0]["?upload_id=".Length..];
        var session = (await store.FindUploadAsync(uploadId))!;
        var file = (await store.GetAsync(session.ProjectId, name["files/".Length..]))!;

        // Re-insert both with past expiration times through the store, as 48 hours (and a week) later would find them.
        Assert.True(await store.DeleteAsync(file.ProjectId, file.Id));
        var expiredSession = session with { UploadId = "up" + Guid.NewGuid().ToString("N"), FileId = file.Id, ExpirationTime = now.AddSeconds(-1) };
        Assert.Equal(StartUploadResult.Started, await store.StartUploadAsync(expiredSession, long.MaxValue));
        File.Copy(content.FilePath(file.ProjectId, file.Id), content.PartPath(file.ProjectId, expiredSession.UploadId));
        Assert.Equal(CompleteUploadResult.Completed, await store.CompleteUploadAsync(expiredSession.UploadId, file with { ExpirationTime = now.AddSeconds(-1) }));
        Assert.True(await store.DeleteUploadAsync(uploadId));
        Assert.Equal(StartUploadResult.Started, await store.StartUploadAsync(session with { ExpirationTime = now.AddSeconds(-1) }, long.MaxValue));
        return (file, uploadId);
    }

    /// <summary>A client for a fresh project, so counts and quotas are this test's alone.</summary>
    private async Task<HttpClient> NewProjectClientAsync()
    {
        var keys = server.App.Services.GetRequiredService<Castor.Application.Keys.ApiKeyService>();
        var created = await keys.CreateKeyAsync("p" + Guid.NewGuid().ToString("N")[..12]);
        return server.CreateClient(created.Key);
    }
}
