using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Castor.Application.Files;
using Castor.Application.Keys;
using Castor.Server;
using Castor.Storage.Files;
using Castor.Storage.Keys;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Castor.IntegrationTests.Files;

/// <summary>
/// Issue 11 on the Files API, on a real server (4 MiB a file, 10 MiB a project, 30 open uploads): quotas hold under
/// concurrent uploads of every kind, upload sessions are capped and expire when idle, PDF bombs fail once, downloads
/// cannot run in the server's origin, and nothing on disk is readable by other users.
/// </summary>
[Collection(FilesCollection.Name)]
public sealed class FileHardeningTests(FilesServerFixture server)
{
    private const long Quota = FilesServerFixture.ProjectQuotaBytes;

    [Fact]
    public async Task Parallel_uploads_of_one_project_never_pass_the_quota_together()
    {
        var (client, projectId) = await NewProjectAsync();
        const int chunk = 1024 * 1024;
        var chunkBytes = Uploads.RandomBytes(chunk, 1);

        // Six resumable uploads without a declared size, 4 MiB each in 1 MiB chunks (the review stored 24 MiB this way).
        async Task<HttpStatusCode> Undeclared(int i)
        {
            var url = await StartUndeclaredAsync(client, "text/plain");
            for (var offset = 0; offset < 4 * chunk; offset += chunk)
            {
                using var response = await Uploads.ChunkAsync(client, url, offset, chunkBytes, finalize: offset + chunk == 4 * chunk);
                if (!response.IsSuccessStatusCode) return await QuotaRefusalAsync(response);
            }
            return HttpStatusCode.OK;
        }

        // One-request uploads, multipart without a size and raw with a Content-Length (the review stored 19.2 MB this way).
        async Task<HttpStatusCode> OneShot(int i)
        {
            var bytes = Uploads.RandomBytes(3 * chunk, 100 + i);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/upload/v1beta/files");
            if (i % 2 == 0)
            {
                var multipart = new MultipartContent("related", "b" + i);
                multipart.Add(new StringContent("""{"file":{"mimeType":"text/plain"}}""", Encoding.UTF8, "application/json"));
                multipart.Add(new StreamContent(new MemoryStream(bytes)) { Headers = { ContentType = new MediaTypeHeaderValue("text/plain") } });
                request.Headers.Add("X-Goog-Upload-Protocol", "multipart");
                request.Content = multipart;
            }
            else
            {
                request.Headers.Add("X-Goog-Upload-Protocol", "raw");
                request.Content = new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("text/plain") } };
            }
            using var response = await client.SendAsync(request);
            return response.IsSuccessStatusCode ? HttpStatusCode.OK : await QuotaRefusalAsync(response);
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(Undeclared).Concat(Enumerable.Range(0, 4).Select(OneShot)));

        Assert.Contains(HttpStatusCode.TooManyRequests, results);
        Assert.Contains(HttpStatusCode.OK, results);
        var stored = await StoredBytesAsync(client);
        Assert.InRange(stored, 1, Quota);
        var store = server.App.Services.GetRequiredService<IFileStore>();
        Assert.InRange(await store.UsedBytesAsync(projectId), stored, Quota);
    }

    [Fact]
    public async Task A_declared_size_reserves_the_quota_at_the_start()
    {
        var (client, _) = await NewProjectAsync();
        await Uploads.StartAsync(client, 4 * 1024 * 1024, "text/plain");
        await Uploads.StartAsync(client, 4 * 1024 * 1024, "text/plain");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/upload/v1beta/files");
        request.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        request.Headers.Add("X-Goog-Upload-Command", "start");
        request.Headers.Add("X-Goog-Upload-Header-Content-Length", (3 * 1024 * 1024).ToString());
        request.Headers.Add("X-Goog-Upload-Header-Content-Type", "text/plain");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.TooManyRequests, await QuotaRefusalAsync(response));
    }

    [Fact]
    public async Task Cancelling_an_upload_releases_its_reservation()
    {
        var (client, projectId) = await NewProjectAsync();
        var url = await Uploads.StartAsync(client, 4 * 1024 * 1024, "text/plain");
        var store = server.App.Services.GetRequiredService<IFileStore>();
        Assert.Equal(4 * 1024 * 1024, await store.UsedBytesAsync(projectId));
        using var cancel = new HttpRequestMessage(HttpMethod.Post, Uploads.PathOf(url));
        cancel.Headers.Add("X-Goog-Upload-Command", "cancel");
        (await client.SendAsync(cancel)).Dispose();
        Assert.Equal(0, await store.UsedBytesAsync(projectId));
    }

    [Fact]
    public async Task Open_upload_sessions_are_capped_and_empty_ones_leave_no_part_file()
    {
        var (client, projectId) = await NewProjectAsync();
        var urls = new List<string>();
        for (var i = 0; i < FilesServerFixture.MaxOpenUploads; i++)
            urls.Add(await StartUndeclaredAsync(client, "text/plain"));

        using (var refused = await StartUndeclaredRawAsync(client))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("RESOURCE_EXHAUSTED", (string?)error["status"]);
            Assert.Contains($"{FilesServerFixture.MaxOpenUploads} upload sessions open", (string?)error["message"]);
        }
        // Another project is not affected.
        using (var other = server.CreateClient(server.OtherProjectKey))
            await StartUndeclaredAsync(other, "text/plain");

        // Sessions that never sent a byte left nothing on disk.
        var content = server.App.Services.GetRequiredService<FileContentStore>();
        Assert.False(File.Exists(content.PartPath(projectId, new Uri(urls[0]).Query.Split('&')[0]["?upload_id=".Length..])));
        Assert.DoesNotContain(content.Enumerate(), b => b.ProjectId == projectId);

        // Finishing one frees a slot; the first chunk creates its part file.
        var finished = await Uploads.ChunkAsync(client, urls[0], 0, "done"u8.ToArray(), finalize: true);
        Assert.True(finished.IsSuccessStatusCode, await finished.Content.ReadAsStringAsync());
        await StartUndeclaredAsync(client, "text/plain");
    }

    [Fact]
    public async Task An_idle_session_expires_within_the_hour_and_the_sweeper_removes_it()
    {
        var (client, _) = await NewProjectAsync();
        var url = await StartUndeclaredAsync(client, "text/plain");
        var uploadId = new Uri(url).Query.Split('&')[0]["?upload_id=".Length..];
        var store = server.App.Services.GetRequiredService<IFileStore>();
        var session = (await store.FindUploadAsync(uploadId))!;
        Assert.InRange(session.ExpirationTime - session.CreateTime, TimeSpan.FromMinutes(59), TimeSpan.FromHours(1));

        // A chunk moves the expiry an hour past itself.
        (await Uploads.ChunkAsync(client, url, 0, "abc"u8.ToArray(), finalize: false)).Dispose();
        var moved = (await store.FindUploadAsync(uploadId))!;
        Assert.True(moved.ExpirationTime >= session.ExpirationTime);
        Assert.True(moved.ReservedBytes >= 3, $"reserved {moved.ReservedBytes}");

        await server.App.Services.GetRequiredService<FileSweeper>().SweepAsync(moved.ExpirationTime.AddSeconds(1), CancellationToken.None);
        Assert.Null(await store.FindUploadAsync(uploadId));
        var content = server.App.Services.GetRequiredService<FileContentStore>();
        Assert.False(File.Exists(content.PartPath(moved.ProjectId, uploadId)));
        using var query = new HttpRequestMessage(HttpMethod.Post, Uploads.PathOf(url));
        query.Headers.Add("X-Goog-Upload-Command", "query");
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(query)).StatusCode);
    }

    [Fact]
    public async Task An_uploaded_pdf_bomb_fails_with_the_limit_named()
    {
        var (client, _) = await NewProjectAsync();
        var bomb = TestPdf.FlateBomb(300L * 1024 * 1024);
        var name = (await Uploads.UploadAsync(client, bomb, "application/pdf", chunkSize: bomb.Length)).GetProperty("name").GetString()!;
        var file = await WaitForStateAsync(client, name);
        Assert.Equal("FAILED", (string?)file["state"]);
        Assert.Contains("decode to more than", (string?)file["error"]!["message"]);
    }

    [Fact]
    public async Task An_inline_pdf_bomb_is_a_400_naming_the_part()
    {
        var (client, _) = await NewProjectAsync();
        var body = new
        {
            contents = new[] { new { role = "user", parts = new object[] { new { inlineData = new { mimeType = "application/pdf", data = Convert.ToBase64String(TestPdf.FlateBomb(300L * 1024 * 1024)) } } } } },
        };
        using var response = await client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("decode to more than", text);
        Assert.Contains("contents[0].parts[0].inlineData.data", text);
    }

    [Fact]
    public async Task A_file_whose_processing_never_finished_twice_is_failed_at_start_up_not_retried()
    {
        var services = server.App.Services;
        var (_, projectId) = await NewProjectAsync();
        var store = services.GetRequiredService<IFileStore>();
        var now = DateTimeOffset.UtcNow;
        var session = new UploadSession("up" + Guid.NewGuid().ToString("N"), projectId, "crashed", null, "application/pdf", 1, 0, now, now.AddHours(1));
        Assert.Equal(StartUploadResult.Started, await store.StartUploadAsync(session, Quota));
        var file = new StoredFile(projectId, "crashed", null, "application/pdf", 1, new byte[32], FileState.Processing, null, now, now, now.AddHours(48));
        Assert.Equal(CompleteUploadResult.Completed, await store.CompleteUploadAsync(session.UploadId, file));
        // Two parses began and neither finished: the server died during each.
        await store.BeginProcessingAsync(projectId, "crashed");
        await store.BeginProcessingAsync(projectId, "crashed");

        // What the next start does: a fresh processor looks up files left PROCESSING.
        var processor = new FileProcessor(store, services.GetRequiredService<FileContentStore>(), services.GetRequiredService<FileLimits>(),
            services.GetRequiredService<PdfExtractor>(), TimeProvider.System, NullLogger<FileProcessor>.Instance);
        using var stop = new CancellationTokenSource();
        var run = processor.RunAsync(stop.Token);
        StoredFile? after = null;
        for (var i = 0; i < 100 && after?.State != FileState.Failed; i++)
        {
            await Task.Delay(50);
            after = await store.GetAsync(projectId, "crashed");
        }
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(FileState.Failed, after!.State);
        Assert.Contains("did not finish in 2 attempts", after.ErrorMessage);
        Assert.Equal(2, after.ProcessingAttempts);
    }

    [Theory]
    [InlineData("text/html", "<script>alert(document.domain)</script>")]
    [InlineData("image/svg+xml", "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>")]
    [InlineData("text/plain", "plain")]
    public async Task Downloads_are_attachments_never_sniffed_and_sandboxed(string mimeType, string content)
    {
        var (client, _) = await NewProjectAsync();
        var name = (await Uploads.UploadAsync(client, Encoding.UTF8.GetBytes(content), mimeType, displayName: "page\r\nSet-Cookie: x=1\".html")).GetProperty("name").GetString()!;
        using var response = await client.GetAsync($"/v1beta/{name}:download?alt=media");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content, await response.Content.ReadAsStringAsync());
        var disposition = response.Content.Headers.ContentDisposition!;
        Assert.Equal("attachment", disposition.DispositionType);
        Assert.DoesNotContain('\n', disposition.ToString());
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("sandbox", Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
    }

    [Theory]
    [InlineData("text/plain; a=b\r\nX-Injected: 1")]
    [InlineData("text/plain;\ncharset=utf-8")]
    [InlineData("text/plain; a=\"open")]
    public async Task A_media_type_with_control_characters_or_broken_parameters_is_a_400(string mimeType)
    {
        var (client, _) = await NewProjectAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/upload/v1beta/files");
        request.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        request.Headers.Add("X-Goog-Upload-Command", "start");
        request.Content = new StringContent(JsonSerializer.Serialize(new { file = new { mimeType } }), Encoding.UTF8, "application/json");
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("file.mimeType", body);
    }

    [Theory]
    [InlineData("/v1beta/files/abc%0A")]
    [InlineData("/v1beta/files/abc%0A:download?alt=media")]
    public async Task A_file_name_with_a_trailing_newline_is_a_400(string path)
    {
        var (client, _) = await NewProjectAsync();
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_name_with_a_trailing_newline_cannot_be_uploaded()
    {
        var (client, _) = await NewProjectAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/upload/v1beta/files");
        request.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        request.Headers.Add("X-Goog-Upload-Command", "start");
        request.Content = new StringContent("""{"file":{"name":"files/abc\n","mimeType":"text/plain"}}""", Encoding.UTF8, "application/json");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("file.name", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Upload_and_file_urls_ignore_the_host_header()
    {
        var (client, _) = await NewProjectAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/upload/v1beta/files");
        request.Headers.Host = "attacker.example:443";
        request.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        request.Headers.Add("X-Goog-Upload-Command", "start");
        request.Headers.Add("X-Goog-Upload-Header-Content-Type", "text/plain");
        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var url = new Uri(Uploads.Header(response, "X-Goog-Upload-URL")!);
        Assert.Equal(server.BaseAddress.Authority, url.Authority);

        using var chunk = new HttpRequestMessage(HttpMethod.Post, url.PathAndQuery) { Content = new ByteArrayContent("x"u8.ToArray()) };
        chunk.Headers.Host = "attacker.example";
        chunk.Headers.Add("X-Goog-Upload-Command", "upload, finalize");
        chunk.Headers.Add("X-Goog-Upload-Offset", "0");
        using var final = await client.SendAsync(chunk);
        var file = JsonNode.Parse(await final.Content.ReadAsStringAsync())!["file"]!;
        Assert.StartsWith(server.BaseAddress.GetLeftPart(UriPartial.Authority) + "/", (string?)file["uri"]);
        Assert.StartsWith(server.BaseAddress.GetLeftPart(UriPartial.Authority) + "/", (string?)file["downloadUri"]);
    }

    [Fact]
    public async Task The_data_folder_is_0700_and_the_database_uploads_and_part_files_0600()
    {
        if (OperatingSystem.IsWindows()) return;
        var (client, projectId) = await NewProjectAsync();
        var name = (await Uploads.UploadAsync(client, "secret"u8.ToArray(), "text/plain")).GetProperty("name").GetString()!;
        var url = await StartUndeclaredAsync(client, "text/plain");
        (await Uploads.ChunkAsync(client, url, 0, "part"u8.ToArray(), finalize: false)).Dispose();

        var data = server.App.Services.GetRequiredService<CastorOptions>().Data;
        var content = server.App.Services.GetRequiredService<FileContentStore>();
        const UnixFileMode folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        const UnixFileMode file = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(folder, File.GetUnixFileMode(data));
        Assert.Equal(folder, File.GetUnixFileMode(content.Root));
        Assert.Equal(folder, File.GetUnixFileMode(Path.Combine(content.Root, projectId)));
        Assert.Equal(file, File.GetUnixFileMode(Path.Combine(data, "castor.db")));
        Assert.Equal(file, File.GetUnixFileMode(content.FilePath(projectId, name["files/".Length..])));
        Assert.Equal(file, File.GetUnixFileMode(content.PartPath(projectId, new Uri(url).Query.Split('&')[0]["?upload_id=".Length..])));
    }

    private async Task<(HttpClient Client, string ProjectId)> NewProjectAsync()
    {
        var project = "h" + Guid.NewGuid().ToString("N")[..12];
        var created = await server.App.Services.GetRequiredService<ApiKeyService>().CreateKeyAsync(project);
        var projectId = await server.App.Services.GetRequiredService<IKeyStore>().EnsureProjectAsync(project);
        return (server.CreateClient(created.Key), projectId);
    }

    private static async Task<HttpResponseMessage> StartUndeclaredRawAsync(HttpClient client)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/upload/v1beta/files");
        request.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        request.Headers.Add("X-Goog-Upload-Command", "start");
        request.Headers.Add("X-Goog-Upload-Header-Content-Type", "text/plain");
        return await client.SendAsync(request);
    }

    /// <summary>A resumable start without X-Goog-Upload-Header-Content-Length or sizeBytes: nothing is reserved up front.</summary>
    private static async Task<string> StartUndeclaredAsync(HttpClient client, string mimeType)
    {
        using var response = await StartUndeclaredRawAsync(client);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return Uploads.Header(response, "X-Goog-Upload-URL")!;
    }

    /// <summary>A refusal must be the quota's 429 in the API's shape (anything else fails the test).</summary>
    private static async Task<HttpStatusCode> QuotaRefusalAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.TooManyRequests, $"{(int)response.StatusCode}: {body}");
        var error = JsonNode.Parse(body)!["error"]!;
        Assert.Equal(429, (int)error["code"]!);
        Assert.Equal("RESOURCE_EXHAUSTED", (string?)error["status"]);
        Assert.Contains($"file storage quota of {Quota} bytes", (string?)error["message"]);
        return response.StatusCode;
    }

    private static async Task<long> StoredBytesAsync(HttpClient client)
    {
        var (status, page) = await client.GetJsonAsync("/v1beta/files?pageSize=100");
        Assert.Equal(200, status);
        return page!["files"]?.AsArray().Sum(f => long.Parse((string)f!["sizeBytes"]!)) ?? 0;
    }

    private static async Task<JsonNode> WaitForStateAsync(HttpClient client, string name)
    {
        for (var i = 0; i < 200; i++)
        {
            var (_, file) = await client.GetJsonAsync("/v1beta/" + name);
            if ((string?)file!["state"] != "PROCESSING") return file;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{name} stayed PROCESSING");
    }
}
