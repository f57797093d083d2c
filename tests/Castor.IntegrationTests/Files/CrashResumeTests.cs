using System.Net.Sockets;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Castor.IntegrationTests.Files;

/// <summary>
/// The server is SIGKILLed while a chunk is half written; after a restart on the same data folder the client queries
/// the offset, resumes, and gets a file whose SHA-256 matches: the reported offset is what the disk durably holds.
/// </summary>
public sealed class CrashResumeTests : IDisposable
{
    private const string Key = "crash-test-key-0001";
    private const int MiB = 1024 * 1024;
    private readonly string _data = Directory.CreateTempSubdirectory("castor-crash").FullName;

    [Fact]
    public async Task A_server_killed_mid_chunk_resumes_the_upload_from_the_offset_it_reports_after_restart()
    {
        var bytes = Uploads.RandomBytes(3 * MiB, seed: 42);
        string url;
        await using (var first = await CastorProcess.StartAsync(_data, Key))
        {
            using var client = Client(first);
            url = await Uploads.StartAsync(client, bytes.Length, "application/octet-stream", displayName: "survivor.bin");
            using (var acknowledged = await Uploads.ChunkAsync(client, url, 0, bytes.AsMemory(0, MiB), finalize: false))
                Assert.Equal("1048576", Uploads.Header(acknowledged, "X-Goog-Upload-Size-Received"));

            // The second chunk: announce 1 MiB, send 3/4 of it, and keep the connection open.
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(first.BaseAddress.Host, first.BaseAddress.Port);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"POST {Uploads.PathOf(url)} HTTP/1.1\r\nHost: {first.BaseAddress.Authority}\r\nx-goog-api-key: {Key}\r\nX-Goog-Upload-Command: upload\r\n" +
                $"X-Goog-Upload-Offset: {MiB}\r\nContent-Type: application/json\r\nContent-Length: {MiB}\r\n\r\n"));
            await stream.WriteAsync(bytes.AsMemory(MiB, 3 * MiB / 4));
            await stream.FlushAsync();

            // Kill once the server has written some of those bytes: they were never acknowledged.
            var part = Directory.GetFiles(Path.Combine(_data, "files"), "*.part", SearchOption.AllDirectories).Single();
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while (new FileInfo(part).Length <= MiB && DateTime.UtcNow < deadline) await Task.Delay(10);
            Assert.True(new FileInfo(part).Length > MiB, "the server never wrote the in-flight chunk");
            await first.KillAsync();
        }

        await using var second = await CastorProcess.StartAsync(_data, Key);
        using var resumed = Client(second);
        // The SDKs keep the path and query of the upload URL and use their own base URL: so does this.
        var received = await Uploads.QueryAsync(resumed, url);
        Assert.Equal(MiB, received);

        using var rest = await Uploads.ChunkAsync(resumed, url, received, bytes.AsMemory((int)received), finalize: true);
        var body = await rest.Content.ReadAsStringAsync();
        Assert.True(rest.IsSuccessStatusCode, body);
        var file = JsonDocument.Parse(body).RootElement.GetProperty("file");
        Assert.Equal(Uploads.Sha256Base64(bytes), file.GetProperty("sha256Hash").GetString());
        Assert.Equal(bytes.Length.ToString(), file.GetProperty("sizeBytes").GetString());
        Assert.Equal(bytes, await resumed.GetByteArrayAsync($"/v1beta/{file.GetProperty("name").GetString()}:download?alt=media"));
        Assert.Empty(Directory.GetFiles(Path.Combine(_data, "files"), "*.part", SearchOption.AllDirectories));
    }

    private static HttpClient Client(CastorProcess castor)
    {
        var client = new HttpClient { BaseAddress = castor.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Add("x-goog-api-key", Key);
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    public void Dispose()
    {
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }
}
