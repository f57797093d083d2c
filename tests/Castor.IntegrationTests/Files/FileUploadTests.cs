using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Castor.IntegrationTests.Files;

/// <summary>Uploads over real HTTP: the resumable protocol (chunks, query, resume, resend, bad offsets), multipart and raw, limits.</summary>
[Collection(FilesCollection.Name)]
public sealed class FileUploadTests(FilesServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();

    [Fact]
    public async Task A_chunked_upload_becomes_an_active_file_with_the_bytes_hash_and_every_field()
    {
        var bytes = Uploads.RandomBytes(700_000, seed: 1);
        var url = await Uploads.StartAsync(_client, bytes.Length, "text/plain", displayName: "story.txt");
        Assert.Equal(0, await Uploads.QueryAsync(_client, url));

        using (var first = await Uploads.ChunkAsync(_client, url, 0, bytes.AsMemory(0, 300_000), finalize: false))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("active", Uploads.Header(first, "X-Goog-Upload-Status"));
            Assert.Equal("300000", Uploads.Header(first, "X-Goog-Upload-Size-Received"));
        }
        Assert.Equal(300_000, await Uploads.QueryAsync(_client, url));
        // Not listed before it is complete.
        var (_, listing) = await _client.GetJsonAsync("/v1beta/files?pageSize=100");
        Assert.DoesNotContain("story.txt", listing!.ToJsonString());

        using (var second = await Uploads.ChunkAsync(_client, url, 300_000, bytes.AsMemory(300_000, 300_000), finalize: false))
            Assert.Equal("600000", Uploads.Header(second, "X-Goog-Upload-Size-Received"));
        using var last = await Uploads.ChunkAsync(_client, url, 600_000, bytes.AsMemory(600_000), finalize: true);
        Assert.Equal("final", Uploads.Header(last, "X-Goog-Upload-Status"));
        var file = JsonDocument.Parse(await last.Content.ReadAsStringAsync()).RootElement.GetProperty("file");

        var id = file.GetProperty("name").GetString()!["files/".Length..];
        Assert.Matches("^[a-z0-9]{12}$", id);
        Assert.Equal("story.txt", file.GetProperty("displayName").GetString());
        Assert.Equal("text/plain", file.GetProperty("mimeType").GetString());
        Assert.Equal("700000", file.GetProperty("sizeBytes").GetString());
        Assert.Equal(Uploads.Sha256Base64(bytes), file.GetProperty("sha256Hash").GetString());
        Assert.Equal($"{server.BaseAddress.ToString().TrimEnd('/')}/v1beta/files/{id}", file.GetProperty("uri").GetString());
        Assert.Equal("ACTIVE", file.GetProperty("state").GetString());
        Assert.Equal("UPLOADED", file.GetProperty("source").GetString());
        var created = DateTimeOffset.Parse(file.GetProperty("createTime").GetString()!);
        Assert.Equal(created, DateTimeOffset.Parse(file.GetProperty("updateTime").GetString()!));
        Assert.Equal(created.AddHours(48), DateTimeOffset.Parse(file.GetProperty("expirationTime").GetString()!));

        var (status, got) = await _client.GetJsonAsync($"/v1beta/files/{id}");
        Assert.Equal(200, status);
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(file.GetRawText()), got), got!.ToJsonString());
        Assert.Equal(bytes, await _client.GetByteArrayAsync($"/v1beta/files/{id}:download?alt=media"));
        Assert.Equal(bytes, await _client.GetByteArrayAsync($"/v1beta/files/{id}?alt=media"));

        // The session is over: its URL no longer accepts anything.
        using var after = await Uploads.ChunkAsync(_client, url, 700_000, new byte[1], finalize: true);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task A_resent_chunk_is_harmless_and_an_offset_past_the_received_bytes_is_refused_with_the_offset()
    {
        var bytes = Uploads.RandomBytes(200_000, seed: 2);
        var url = await Uploads.StartAsync(_client, bytes.Length, "application/octet-stream");
        (await Uploads.ChunkAsync(_client, url, 0, bytes.AsMemory(0, 120_000), finalize: false)).Dispose();
        // The SDK resends a chunk whose answer it lost: the server already has those bytes.
        using (var again = await Uploads.ChunkAsync(_client, url, 0, bytes.AsMemory(0, 150_000), finalize: false))
            Assert.Equal("150000", Uploads.Header(again, "X-Goog-Upload-Size-Received"));

        using (var gap = await Uploads.ChunkAsync(_client, url, 160_000, bytes.AsMemory(160_000), finalize: true))
        {
            Assert.Equal(HttpStatusCode.BadRequest, gap.StatusCode);
            Assert.Equal("150000", Uploads.Header(gap, "X-Goog-Upload-Size-Received"));
            Json.AssertRpcError(await Json.ReadAsync(gap), 400, "INVALID_ARGUMENT");
        }

        using var last = await Uploads.ChunkAsync(_client, url, 150_000, bytes.AsMemory(150_000), finalize: true);
        var file = JsonDocument.Parse(await last.Content.ReadAsStringAsync()).RootElement.GetProperty("file");
        Assert.Equal(Uploads.Sha256Base64(bytes), file.GetProperty("sha256Hash").GetString());
    }

    [Fact]
    public async Task After_a_dropped_connection_the_query_offset_is_where_the_upload_resumes()
    {
        var bytes = Uploads.RandomBytes(1_500_000, seed: 3);
        var url = await Uploads.StartAsync(_client, bytes.Length, "application/octet-stream");
        (await Uploads.ChunkAsync(_client, url, 0, bytes.AsMemory(0, 500_000), finalize: false)).Dispose();

        // Announce a 1,000,000-byte chunk, send 400,000 bytes of it, and hang up.
        await SendTruncatedChunkAsync(url, offset: 500_000, announced: 1_000_000, bytes.AsMemory(500_000, 400_000));

        var received = await Uploads.QueryAsync(_client, url);
        Assert.InRange(received, 500_000, 900_000);
        using var rest = await Uploads.ChunkAsync(_client, url, received, bytes.AsMemory((int)received), finalize: true);
        var body = await rest.Content.ReadAsStringAsync();
        Assert.True(rest.IsSuccessStatusCode, body);
        var file = JsonDocument.Parse(body).RootElement.GetProperty("file");
        Assert.Equal(Uploads.Sha256Base64(bytes), file.GetProperty("sha256Hash").GetString());
        Assert.Equal(bytes, await _client.GetByteArrayAsync($"/v1beta/{file.GetProperty("name").GetString()}:download?alt=media"));
    }

    [Fact]
    public async Task Multipart_and_raw_uploads_create_a_file_in_one_request()
    {
        var text = "name,age\nada,36\n"u8.ToArray();
        using var multipart = new MultipartContent("related", "castor-boundary");
        multipart.Add(new StringContent("""{"file":{"displayName":"people.csv","mimeType":"text/csv"}}""", Encoding.UTF8, "application/json"));
        var media = new ByteArrayContent(text);
        media.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        multipart.Add(media);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/upload/v1beta/files?uploadType=multipart") { Content = multipart };
        using var response = await _client.SendAsync(request);
        var file = (await Json.ReadAsync(response))!["file"]!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(("people.csv", "text/csv", "16"), ((string)file["displayName"]!, (string)file["mimeType"]!, (string)file["sizeBytes"]!));
        Assert.Equal(Uploads.Sha256Base64(text), (string)file["sha256Hash"]!);

        using var raw = new HttpRequestMessage(HttpMethod.Post, "/upload/v1beta/files?uploadType=media") { Content = new ByteArrayContent(text) };
        raw.Content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        raw.Headers.Add("X-Goog-Upload-File-Name", "raw.csv");
        using var rawResponse = await _client.SendAsync(raw);
        var rawFile = (await Json.ReadAsync(rawResponse))!["file"]!;
        Assert.Equal(HttpStatusCode.OK, rawResponse.StatusCode);
        Assert.Equal(("raw.csv", "text/csv"), ((string)rawFile["displayName"]!, (string)rawFile["mimeType"]!));
        Assert.Equal(text, await _client.GetByteArrayAsync($"/v1beta/{(string)rawFile["name"]!}:download?alt=media"));
    }

    [Fact]
    public async Task A_chosen_name_is_used_once_and_malformed_names_and_types_are_refused()
    {
        var file = await Uploads.UploadAsync(_client, "hi"u8.ToArray(), "text/plain", name: "files/my-chosen-id");
        Assert.Equal("files/my-chosen-id", file.GetProperty("name").GetString());

        using var again = new HttpRequestMessage(HttpMethod.Post, "/upload/v1beta/files");
        again.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        again.Headers.Add("X-Goog-Upload-Command", "start");
        again.Content = Json.Body("""{"file":{"name":"files/my-chosen-id","mimeType":"text/plain"}}""");
        using var conflict = await _client.SendAsync(again);
        Json.AssertRpcError(await Json.ReadAsync(conflict), 409, "ALREADY_EXISTS");

        foreach (var body in new[]
                 {
                     """{"file":{"name":"files/Not_Valid","mimeType":"text/plain"}}""",
                     """{"file":{"name":"files/-dash","mimeType":"text/plain"}}""",
                     """{"file":{"mimeType":"not a type"}}""",
                     """{"file":{}}""",
                     """{"file":{"mimeType":"text/plain","sizeBytes":"12x"}}""",
                 })
        {
            using var start = new HttpRequestMessage(HttpMethod.Post, "/upload/v1beta/files");
            start.Headers.Add("X-Goog-Upload-Protocol", "resumable");
            start.Headers.Add("X-Goog-Upload-Command", "start");
            start.Content = Json.Body(body);
            using var refused = await _client.SendAsync(start);
            var error = Json.AssertRpcError(await Json.ReadAsync(refused), 400, "INVALID_ARGUMENT");
            Assert.Contains("file.", (string)error["message"]!);
        }
    }

    [Fact]
    public async Task Files_over_the_size_limit_and_uploads_past_their_declared_size_are_refused_and_leave_nothing_behind()
    {
        using (var start = new HttpRequestMessage(HttpMethod.Post, "/upload/v1beta/files"))
        {
            start.Headers.Add("X-Goog-Upload-Protocol", "resumable");
            start.Headers.Add("X-Goog-Upload-Command", "start");
            start.Headers.Add("X-Goog-Upload-Header-Content-Length", (FilesServerFixture.MaxFileBytes + 1).ToString());
            start.Headers.Add("X-Goog-Upload-Header-Content-Type", "text/plain");
            start.Content = Json.Body("{}");
            using var tooLarge = await _client.SendAsync(start);
            var error = Json.AssertRpcError(await Json.ReadAsync(tooLarge), 400, "INVALID_ARGUMENT");
            Assert.Contains(FilesServerFixture.MaxFileBytes.ToString(), (string)error["message"]!);
        }

        var before = SnapshotOfDisk();
        // A raw upload without a declared size is cut off at the limit.
        using (var raw = new HttpRequestMessage(HttpMethod.Post, "/upload/v1beta/files?uploadType=media"))
        {
            raw.Content = new StreamContent(new MemoryStream(new byte[FilesServerFixture.MaxFileBytes + 10]));
            raw.Content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
            raw.Headers.TransferEncodingChunked = true;
            using var refused = await _client.SendAsync(raw);
            Json.AssertRpcError(await Json.ReadAsync(refused), 400, "INVALID_ARGUMENT");
        }
        Assert.Equal(before, SnapshotOfDisk());

        var url = await Uploads.StartAsync(_client, 10, "text/plain");
        using (var over = await Uploads.ChunkAsync(_client, url, 0, new byte[11], finalize: true))
            Json.AssertRpcError(await Json.ReadAsync(over), 400, "INVALID_ARGUMENT");
        using (var early = await Uploads.ChunkAsync(_client, url, 0, new byte[9], finalize: true))
        {
            var error = Json.AssertRpcError(await Json.ReadAsync(early), 400, "INVALID_ARGUMENT");
            Assert.Contains("declared 10", (string)error["message"]!);
        }
        using var exact = await Uploads.ChunkAsync(_client, url, 9, new byte[1], finalize: true);
        Assert.Equal(HttpStatusCode.OK, exact.StatusCode);
    }

    [Fact]
    public async Task A_cancelled_upload_is_gone_with_its_bytes()
    {
        var url = await Uploads.StartAsync(_client, 100, "text/plain");
        (await Uploads.ChunkAsync(_client, url, 0, new byte[50], finalize: false)).Dispose();
        var parts = Directory.GetFiles(Path.Combine(server.DataFolder, "files"), "*.part", SearchOption.AllDirectories);
        var uploadId = new Uri(url).Query.Split('&')[0]["?upload_id=".Length..];
        Assert.Contains(parts, p => p.Contains(uploadId));

        using var cancel = new HttpRequestMessage(HttpMethod.Post, Uploads.PathOf(url));
        cancel.Headers.Add("X-Goog-Upload-Command", "cancel");
        using var cancelled = await _client.SendAsync(cancel);
        Assert.Equal("cancelled", Uploads.Header(cancelled, "X-Goog-Upload-Status"));
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(server.DataFolder, "files"), "*.part", SearchOption.AllDirectories), p => p.Contains(uploadId));
        using var gone = await Uploads.ChunkAsync(_client, url, 50, new byte[50], finalize: true);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    private string[] SnapshotOfDisk()
    {
        var root = Path.Combine(server.DataFolder, "files");
        return Directory.Exists(root) ? Directory.GetFiles(root, "*", SearchOption.AllDirectories).Order().ToArray() : [];
    }

    private async Task SendTruncatedChunkAsync(string uploadUrl, long offset, int announced, ReadOnlyMemory<byte> sent)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        var stream = tcp.GetStream();
        var head = $"POST {Uploads.PathOf(uploadUrl)} HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\nx-goog-api-key: {CastorServerFixture.ApiKey}\r\n" +
                   $"X-Goog-Upload-Command: upload\r\nX-Goog-Upload-Offset: {offset}\r\nContent-Type: application/json\r\nContent-Length: {announced}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(sent);
        await stream.FlushAsync();
        tcp.Client.Shutdown(SocketShutdown.Both);
    }
}
