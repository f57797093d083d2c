using System.Net;
using System.Text.Json.Nodes;
using Castor.IntegrationTests.Files;
using Castor.IntegrationTests.Limits;

namespace Castor.IntegrationTests.Operations;

/// <summary>
/// SIGTERM on a real <c>castor serve</c>: the request already running finishes, readiness says draining, a new request
/// gets 503 UNAVAILABLE with Retry-After, and the process exits 0 on its own (issue 20). The running request is a
/// streamGenerateContent whose body is held back (<see cref="HeldRequest"/>), so it is in flight for as long as the test
/// needs, without timing.
/// </summary>
public sealed class DrainTests : IAsyncLifetime
{
    private const string Key = "drain-test-key-0123456789";
    private readonly string _data = Path.Combine(Path.GetTempPath(), "castor-drain-" + Guid.NewGuid().ToString("N")[..8]);

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_data);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Sigterm_drains_running_streams_refuses_new_requests_and_exits_zero()
    {
        await using var castor = await CastorProcess.StartAsync(_data, Key, arguments: ["--log-format", "json"]);
        using var client = new HttpClient { BaseAddress = castor.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
        client.DefaultRequestHeaders.Add("x-goog-api-key", Key);

        await using var stream = await HeldRequest.StartAsync(castor.BaseAddress, "/v1beta/models/stories260k:streamGenerateContent?alt=sse", Key,
            """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":20}}""");
        // The held request is counted as running once the server has its headers; the signal comes after that.
        await WaitUntilAsync(async () => Check(await ReadyAsync(client), "draining")["detail"]!.GetValue<string>().Contains("1 running", StringComparison.Ordinal));

        castor.Terminate();

        // Readiness turns false with the reason, while the server still answers.
        await WaitUntilAsync(async () => (await ReadyAsync(client)).Status == HttpStatusCode.ServiceUnavailable);
        var ready = await ReadyAsync(client);
        var draining = Check(ready, "draining");
        Assert.False(draining["ok"]!.GetValue<bool>());
        Assert.Contains("shutting down", draining["detail"]!.GetValue<string>());
        Assert.Equal("unavailable", ready.Body["status"]!.GetValue<string>());

        // A new request is refused in the API's shape, with Retry-After.
        using (var refused = await client.PostAsync("/v1beta/models/stories260k:generateContent",
                   new StringContent("""{"contents":[{"parts":[{"text":"hi"}]}]}""", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("UNAVAILABLE", error["status"]!.GetValue<string>());
        }

        // The running stream finishes normally, then the process exits by itself with 0.
        var response = await stream.FinishAsync();
        Assert.StartsWith("HTTP/1.1 200", response);
        Assert.Contains("\"finishReason\"", response);
        Assert.Equal(0, await castor.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.DoesNotContain("Unhandled exception", castor.Output);
        Assert.DoesNotContain("InvalidOperationException", castor.Output);

        // --log-format json: the log lines are JSON objects, the request's line among them with its facts.
        var logged = castor.Output.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!).ToList();
        var line = logged.Single(l => l["Category"]?.GetValue<string>() == "Castor.Api.Hosting.RequestLogMiddleware"
            && l["State"]?["ApiMethod"]?.GetValue<string>() == "streamGenerateContent");
        Assert.Equal("stories260k", line["State"]!["Model"]!.GetValue<string>());
        Assert.Equal("200", line["State"]!["StatusCode"]!.ToString());
    }

    private static async Task<(HttpStatusCode Status, JsonNode Body)> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/readyz");
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    private static JsonNode Check((HttpStatusCode Status, JsonNode Body) ready, string name) =>
        ready.Body["checks"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == name)!;

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The condition did not hold within a minute.");
            await Task.Delay(50);
        }
    }
}
