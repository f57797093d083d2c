using Castor.Application.Files;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Castor.IntegrationTests.Files;
using Castor.Server;
using Castor.Storage.Files;
using Castor.Storage.Keys;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Castor.IntegrationTests.Robustness;

/// <summary>A server with tight file limits, so floods reach every limit within seconds.</summary>
public sealed class FileFuzzServerFixture : CastorServerFixture
{
    public const long Quota = 6L * 1024 * 1024;
    public const int MaxOpenUploads = 16;
    public const long MaxPdfDecodedBytes = 4L * 1024 * 1024;

    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.ContextSize = RobustnessServerFixture.ContextSize;
        options.Files = new FileLimits
        {
            MaxFileBytes = 2L * 1024 * 1024,
            ProjectQuotaBytes = Quota,
            MaxOpenUploads = MaxOpenUploads,
            MaxPdfDecodedBytes = MaxPdfDecodedBytes,
            MaxConcurrentPdfParses = 2,
        };
        return options;
    }
}

/// <summary>
/// The Files API under adversarial structure rather than malformed fields: compressed PDFs (deflate bombs, once and
/// twice compressed, truncated and garbled) inline and uploaded, floods of concurrent one-request and resumable uploads,
/// and floods of upload sessions, all at once from one project. The invariants: every answer is well formed and none
/// is a 5xx, the server stays up, the project's quota is never passed, no file is left PROCESSING, and memory stays
/// bounded. Deterministic per seed (CASTOR_FUZZ_SEED), a few seconds long.
/// </summary>
public sealed class FileFloodFuzzTests(FileFuzzServerFixture server, ITestOutputHelper output) : IClassFixture<FileFuzzServerFixture>
{
    private const int DefaultSeed = 20_261_202;
    private const long MaxGrowthBytes = 256L * 1024 * 1024;
    private static readonly TimeSpan PerRequestTimeout = TimeSpan.FromSeconds(60);

    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("CASTOR_FUZZ_SEED"), out var seed) ? seed : DefaultSeed;

    [Fact]
    public async Task Compressed_pdfs_and_upload_and_session_floods_get_well_formed_answers_and_never_pass_the_quota()
    {
        var seed = Seed;
        var rng = new Random(seed);
        var requests = new List<FuzzRequest>();
        requests.AddRange(CompressedPdfs(rng, 40));
        requests.AddRange(UploadFlood(rng, 30));
        requests.AddRange(SessionFlood(rng, 2 * FileFuzzServerFixture.MaxOpenUploads));
        for (var i = requests.Count - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (requests[i], requests[j]) = (requests[j], requests[i]);
        }
        requests = requests.Select((r, i) => r with { Index = i }).ToList();

        await using var workingSet = WorkingSetPeak.Start(TimeSpan.FromMilliseconds(10));

        using var client = FuzzClient.Create();
        var responses = new FuzzResponse[requests.Count];
        var failures = new ConcurrentBag<string>();
        var clock = Stopwatch.StartNew();
        var fuzz = Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (request, _) =>
        {
            var response = await FuzzClient.SendAsync(client, server.BaseAddress, request, PerRequestTimeout);
            responses[request.Index] = response;
            if (ResponseInvariants.Check(request, response) is { } problem)
                failures.Add($"{request.Describe()}\n  problem: {problem}\n  answer: {ResponseInvariants.Summarize(response)}");
        });
        // Resumable uploads chunk by chunk, concurrently with the rest (their URLs come from their own starts).
        var resumable = Task.WhenAll(Enumerable.Range(0, 8).Select(i => ResumableUploadAsync(new Random(seed + i), failures)));
        await Task.WhenAll(fuzz, resumable);

        // Uploaded PDFs are processed in the background: every one ends ACTIVE or FAILED.
        using var api = server.CreateClient();
        var files = await ListAsync(api);
        for (var i = 0; i < 200 && files.Any(f => f.GetProperty("state").GetString() == "PROCESSING"); i++)
        {
            await Task.Delay(100);
            files = await ListAsync(api);
        }
        clock.Stop();
        await workingSet.StopAsync();

        output.WriteLine($"Seed {seed}: {requests.Count} requests and 8 resumable uploads in {clock.Elapsed.TotalSeconds:0.0} s: {ResponseInvariants.Histogram(responses)}.");
        var growth = workingSet.Growth;
        output.WriteLine($"Working set {workingSet.Baseline / (1024 * 1024)} MB → peak {workingSet.Peak / (1024 * 1024)} MB (+{growth / (1024 * 1024)} MB); {files.Count} files stored.");

        var report = new StringBuilder();
        foreach (var failure in failures.Take(20)) report.Append(failure).Append('\n');
        Assert.True(failures.IsEmpty, $"Seed {seed} (set CASTOR_FUZZ_SEED={seed} to replay): {failures.Count} bad answers.\n{report}");

        Assert.DoesNotContain(files, f => f.GetProperty("state").GetString() == "PROCESSING");
        var stored = files.Sum(f => long.Parse(f.GetProperty("sizeBytes").GetString()!));
        var projectId = await server.App.Services.GetRequiredService<IKeyStore>().EnsureProjectAsync("default");
        var used = await server.App.Services.GetRequiredService<IFileStore>().UsedBytesAsync(projectId);
        Assert.InRange(stored, 0, FileFuzzServerFixture.Quota);
        Assert.InRange(used, stored, FileFuzzServerFixture.Quota);
        Assert.True(growth < MaxGrowthBytes, $"the working set grew by {growth} bytes");
        Assert.Equal(200, (await api.GetJsonAsync("/v1beta/models")).Status);
    }

    /// <summary>Deflate bombs (once or twice compressed), cut short or with bytes flipped, inline to countTokens and generateContent, or uploaded.</summary>
    private static IEnumerable<FuzzRequest> CompressedPdfs(Random rng, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var pdf = TestPdf.FlateBomb(rng.Next(3) == 0 ? 64 * 1024 : 16L * 1024 * 1024, layers: rng.Next(4) == 0 ? 2 : 1).ToArray();
            var label = "deflate bomb";
            switch (rng.Next(4))
            {
                case 0:
                    pdf = pdf[..rng.Next(16, pdf.Length)];
                    label += ", truncated";
                    break;
                case 1:
                    for (var k = rng.Next(1, 20); k > 0; k--) pdf[rng.Next(pdf.Length)] ^= (byte)rng.Next(1, 256);
                    label += ", garbled";
                    break;
            }
            if (rng.Next(2) == 0)
            {
                var body = JsonSerializer.SerializeToUtf8Bytes(new
                {
                    contents = new[] { new { role = "user", parts = new object[] { new { text = "Summarize." }, new { inlineData = new { mimeType = "application/pdf", data = Convert.ToBase64String(pdf) } } } } },
                    generationConfig = new { maxOutputTokens = 4 },
                });
                var method = rng.Next(3) == 0 ? "generateContent" : "countTokens";
                yield return new FuzzRequest($"{label}, inline to {method}", "POST", $"/v1beta/models/{FuzzCorpus.Model}:{method}") { Body = body };
            }
            else
            {
                yield return new FuzzRequest($"{label}, uploaded", "POST", "/upload/v1beta/files")
                {
                    Body = pdf,
                    ContentType = "application/pdf",
                    Headers = [new("X-Goog-Upload-Protocol", "raw")],
                    Chunked = rng.Next(2) == 0,
                };
            }
        }
    }

    /// <summary>One-request uploads of up to 1.5 MiB, with and without a length, far more than the quota holds together.</summary>
    private static IEnumerable<FuzzRequest> UploadFlood(Random rng, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var bytes = new byte[rng.Next(256 * 1024, 1536 * 1024)];
            rng.NextBytes(bytes);
            if (rng.Next(2) == 0)
            {
                yield return new FuzzRequest("raw upload flood", "POST", "/upload/v1beta/files")
                    { Body = bytes, ContentType = "application/octet-stream", Headers = [new("X-Goog-Upload-Protocol", "raw")], Chunked = rng.Next(2) == 0 };
                continue;
            }
            var boundary = "flood" + i;
            var head = Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Type: application/json\r\n\r\n{{\"file\":{{\"mimeType\":\"text/plain\"}}}}\r\n--{boundary}\r\nContent-Type: text/plain\r\n\r\n");
            var tail = Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n");
            yield return new FuzzRequest("multipart upload flood", "POST", "/upload/v1beta/files")
            {
                Body = [.. head, .. bytes, .. tail],
                ContentType = $"multipart/related; boundary={boundary}",
                Headers = [new("X-Goog-Upload-Protocol", "multipart")],
                Chunked = true,
            };
        }
    }

    /// <summary>Upload sessions started and never used, with and without a declared size: past the cap they are refused.</summary>
    private static IEnumerable<FuzzRequest> SessionFlood(Random rng, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var headers = new List<KeyValuePair<string, string>> { new("X-Goog-Upload-Protocol", "resumable"), new("X-Goog-Upload-Command", "start"), new("X-Goog-Upload-Header-Content-Type", "text/plain") };
            if (rng.Next(2) == 0) headers.Add(new("X-Goog-Upload-Header-Content-Length", rng.Next(1, 3 * 1024 * 1024).ToString()));
            yield return new FuzzRequest("session flood", "POST", "/upload/v1beta/files") { Body = "{}"u8.ToArray(), Headers = headers };
        }
    }

    /// <summary>A resumable upload sent in random chunks: every answer is a success, a 4xx in the RPC shape, never a 5xx.</summary>
    private async Task ResumableUploadAsync(Random rng, ConcurrentBag<string> failures)
    {
        using var client = server.CreateClient();
        using var start = new HttpRequestMessage(HttpMethod.Post, "/upload/v1beta/files");
        start.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        start.Headers.Add("X-Goog-Upload-Command", "start");
        start.Headers.Add("X-Goog-Upload-Header-Content-Type", "text/plain");
        using var started = await client.SendAsync(start);
        if (!Check("resumable start", started, await started.Content.ReadAsStringAsync(), failures) || !started.IsSuccessStatusCode) return;
        var url = Uploads.Header(started, "X-Goog-Upload-URL")!;
        var total = rng.Next(512 * 1024, 2 * 1024 * 1024);
        for (var offset = 0; offset < total;)
        {
            var size = Math.Min(total - offset, rng.Next(64 * 1024, 768 * 1024));
            var bytes = new byte[size];
            rng.NextBytes(bytes);
            using var response = await Uploads.ChunkAsync(client, url, offset, bytes, finalize: offset + size == total);
            if (!Check("resumable chunk", response, await response.Content.ReadAsStringAsync(), failures) || !response.IsSuccessStatusCode) return;
            offset += size;
        }
    }

    private static bool Check(string label, HttpResponseMessage response, string body, ConcurrentBag<string> failures)
    {
        var status = (int)response.StatusCode;
        if (status >= 500)
        {
            failures.Add($"{label}: {status} {body}");
            return false;
        }
        if (status >= 400)
        {
            try
            {
                var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
                if (error.GetProperty("code").GetInt32() != status || !ResponseInvariants.RpcStatusNames.Contains(error.GetProperty("status").GetString()!))
                    failures.Add($"{label}: {status} with a malformed error {body}");
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                failures.Add($"{label}: {status} not in the RPC error shape: {body}");
            }
        }
        return true;
    }

    private static async Task<List<JsonElement>> ListAsync(HttpClient client)
    {
        var files = new List<JsonElement>();
        string? token = null;
        do
        {
            var page = JsonDocument.Parse(await client.GetStringAsync("/v1beta/files?pageSize=100" + (token is null ? "" : "&pageToken=" + token))).RootElement;
            if (page.TryGetProperty("files", out var list)) files.AddRange(list.EnumerateArray().Select(f => f.Clone()));
            token = page.TryGetProperty("nextPageToken", out var next) ? next.GetString() : null;
        } while (token is not null);
        return files;
    }
}
