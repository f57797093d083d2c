using Castor.Application.Files;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Castor.Application.Keys;
using Castor.Server;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Files;

/// <summary>A real server with small file limits (4 MiB a file, 10 MiB a project, 30 open uploads) so the limit tests stay fast, and a second project's key.</summary>
public sealed class FilesServerFixture : CastorServerFixture, IAsyncLifetime
{
    public const long MaxFileBytes = 4L * 1024 * 1024;
    public const long ProjectQuotaBytes = 10L * 1024 * 1024;
    public const int MaxOpenUploads = 30;

    public string OtherProjectKey { get; private set; } = null!;

    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.Files = new FileLimits { MaxFileBytes = MaxFileBytes, ProjectQuotaBytes = ProjectQuotaBytes, MaxOpenUploads = MaxOpenUploads };
        return options;
    }

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        OtherProjectKey = (await App.Services.GetRequiredService<ApiKeyService>().CreateKeyAsync("other-project")).Key;
    }

    Task IAsyncLifetime.InitializeAsync() => InitializeAsync();
}

[CollectionDefinition(Name)]
public sealed class FilesCollection : ICollectionFixture<FilesServerFixture>
{
    public const string Name = "castor-files";
}

/// <summary>The resumable upload protocol as the SDKs speak it, one request at a time.</summary>
public static class Uploads
{
    public static async Task<string> StartAsync(HttpClient client, long size, string mimeType, string? displayName = null, string? name = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/upload/v1beta/files");
        request.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        request.Headers.Add("X-Goog-Upload-Command", "start");
        request.Headers.Add("X-Goog-Upload-Header-Content-Length", size.ToString());
        request.Headers.Add("X-Goog-Upload-Header-Content-Type", mimeType);
        var file = new Dictionary<string, object?> { ["mimeType"] = mimeType, ["sizeBytes"] = size.ToString() };
        if (displayName is not null) file["displayName"] = displayName;
        if (name is not null) file["name"] = name;
        request.Content = new StringContent(JsonSerializer.Serialize(new { file }), Encoding.UTF8, "application/json");
        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal("active", Header(response, "X-Goog-Upload-Status"));
        return Header(response, "X-Goog-Upload-URL")!;
    }

    /// <summary>Sends bytes at an offset; the SDK labels chunks application/json, and so does this.</summary>
    public static async Task<HttpResponseMessage> ChunkAsync(HttpClient client, string uploadUrl, long offset, ReadOnlyMemory<byte> bytes, bool finalize)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, PathOf(uploadUrl));
        request.Headers.Add("X-Goog-Upload-Command", finalize ? "upload, finalize" : "upload");
        request.Headers.Add("X-Goog-Upload-Offset", offset.ToString());
        request.Content = new ReadOnlyMemoryContent(bytes);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await client.SendAsync(request);
    }

    public static async Task<long> QueryAsync(HttpClient client, string uploadUrl)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, PathOf(uploadUrl));
        request.Headers.Add("X-Goog-Upload-Command", "query");
        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal("active", Header(response, "X-Goog-Upload-Status"));
        return long.Parse(Header(response, "X-Goog-Upload-Size-Received")!);
    }

    /// <summary>Uploads in chunks of <paramref name="chunkSize"/> and returns the final response's <c>file</c>.</summary>
    public static async Task<JsonElement> UploadAsync(HttpClient client, byte[] bytes, string mimeType, int chunkSize = 256 * 1024, string? displayName = null, string? name = null)
    {
        var url = await StartAsync(client, bytes.Length, mimeType, displayName, name);
        var offset = 0;
        while (true)
        {
            var count = Math.Min(chunkSize, bytes.Length - offset);
            var last = offset + count >= bytes.Length;
            using var response = await ChunkAsync(client, url, offset, bytes.AsMemory(offset, count), last);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            if (last)
            {
                Assert.Equal("final", Header(response, "X-Goog-Upload-Status"));
                return JsonDocument.Parse(body).RootElement.GetProperty("file").Clone();
            }
            Assert.Equal("active", Header(response, "X-Goog-Upload-Status"));
            offset += count;
        }
    }

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;

    public static string PathOf(string uploadUrl) => new Uri(uploadUrl).PathAndQuery;

    public static string Sha256Base64(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(SHA256.HashData(bytes));

    public static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
