using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Castor.IntegrationTests.Files;

/// <summary>
/// The security review's flood: PDFs of ~300 KB that inflate to 300 MB each, sent inline to countTokens and uploaded as
/// files, all at once. Each used to add ~800 MB to the server (five at once: 3.7 GB). Now deflate output is measured
/// into one reused buffer before anything is decoded, and at most two PDFs are parsed at a time, so the process's
/// working set grows by far less than one bomb's inflated size. Runs alone so no other test's memory is counted.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class PdfFloodMemoryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const long InflatedBytes = 300L * 1024 * 1024;

    /// <summary>The stated bound on working-set growth for the whole flood: less than one bomb's inflated size.</summary>
    private const long MaxGrowthBytes = 256L * 1024 * 1024;

    private readonly FloodServerFixture _server = new();

    /// <summary>One key sends the whole flood at once: the per-key and per-project limits must not turn it into 429s.</summary>
    private sealed class FloodServerFixture : CastorServerFixture
    {
        protected override Castor.Server.CastorOptions CreateOptions()
        {
            var options = base.CreateOptions();
            options.Limits = new Castor.Server.LimitsOptions { MaxConcurrentRequestsPerKey = 64, MaxConcurrentRequestsPerProject = 64 };
            return options;
        }
    }

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task A_flood_of_pdf_bombs_inline_and_uploaded_keeps_the_working_set_bounded()
    {
        var bomb = TestPdf.FlateBomb(InflatedBytes);
        var inlineBody = JsonSerializer.Serialize(new
        {
            contents = new[] { new { role = "user", parts = new object[] { new { inlineData = new { mimeType = "application/pdf", data = Convert.ToBase64String(bomb) } } } } },
        });
        using var client = _server.CreateClient();

        await using var workingSet = WorkingSetPeak.Start(TimeSpan.FromMilliseconds(10));

        var inline = Enumerable.Range(0, 12).Select(async _ =>
        {
            using var response = await client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", new StringContent(inlineBody, Encoding.UTF8, "application/json"));
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        });
        var uploads = Enumerable.Range(0, 6).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/upload/v1beta/files") { Content = new ByteArrayContent(bomb) };
            request.Headers.Add("X-Goog-Upload-Protocol", "raw");
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
            using var response = await client.SendAsync(request);
            var name = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("file").GetProperty("name").GetString()!;
            for (var i = 0; i < 600; i++)
            {
                var file = JsonDocument.Parse(await client.GetStringAsync("/v1beta/" + name)).RootElement;
                if (file.GetProperty("state").GetString() != "PROCESSING")
                    return (file.GetProperty("state").GetString(), file.GetProperty("error").GetProperty("message").GetString());
                await Task.Delay(50);
            }
            return ("PROCESSING", null);
        });
        var inlineResults = await Task.WhenAll(inline);
        var uploadResults = await Task.WhenAll(uploads);
        await workingSet.StopAsync();

        Assert.All(inlineResults, r =>
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("decode to more than", r.Item2);
        });
        Assert.All(uploadResults, r =>
        {
            Assert.Equal("FAILED", r.Item1);
            Assert.Contains("decode to more than", r.Item2);
        });
        var growth = workingSet.Growth;
        output.WriteLine($"18 bombs of {bomb.Length / 1024} KB (each {InflatedBytes / (1024 * 1024)} MB inflated): working set {workingSet.Baseline / (1024 * 1024)} MB → peak {workingSet.Peak / (1024 * 1024)} MB (+{growth / (1024 * 1024)} MB).");
        Assert.True(growth < MaxGrowthBytes, $"the working set grew by {growth} bytes");
    }
}
