using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Castor.IntegrationTests.Files;

namespace Castor.IntegrationTests.Operations;

/// <summary>
/// With OTEL_EXPORTER_OTLP_ENDPOINT set, a real <c>castor serve</c> exports traces and metrics over OTLP (HTTP/protobuf
/// here, to a receiver in the test that records what arrives).
/// </summary>
public sealed class OtlpExportTests : IAsyncLifetime, IDisposable
{
    private const string Key = "otlp-test-key-0123456789abc";
    private readonly string _data = Path.Combine(Path.GetTempPath(), "castor-otlp-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly HttpListener _receiver = new();
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _received = new();
    private Task _receiving = Task.CompletedTask;
    private int _port;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_data);
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        _port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _receiver.Prefixes.Add($"http://127.0.0.1:{_port}/");
        _receiver.Start();
        _receiving = ReceiveAsync();
        return Task.CompletedTask;
    }

    private async Task ReceiveAsync()
    {
        while (_receiver.IsListening)
        {
            HttpListenerContext context;
            try { context = await _receiver.GetContextAsync(); }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException) { return; }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            _received.Enqueue((context.Request.Url!.AbsolutePath, body.ToArray()));
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }

    public async Task DisposeAsync()
    {
        _receiver.Stop();
        _receiver.Close();
        await _receiving;
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }

    public void Dispose() => ((IDisposable)_receiver).Dispose();

    [Fact]
    public async Task Traces_and_metrics_go_to_the_OTLP_endpoint()
    {
        await using var castor = await CastorProcess.StartAsync(_data, Key, new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{_port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
        });
        using var client = new HttpClient { BaseAddress = castor.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
        client.DefaultRequestHeaders.Add("x-goog-api-key", Key);
        using (var response = await client.PostAsync("/v1beta/models/stories260k:generateContent",
                   new StringContent("""{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":8}}""", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // Protobuf carries names as plain UTF-8: the span names and instrument names can be found in the bytes.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        bool Has(string path, string text) => _received.Any(r => r.Path == path && Encoding.UTF8.GetString(r.Body).Contains(text, StringComparison.Ordinal));
        while (!(Has("/v1/traces", "generate_content stories260k") && Has("/v1/traces", "castor.decode") && Has("/v1/metrics", "gen_ai.server.time_to_first_token")))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"OTLP received: {string.Join(", ", _received.Select(r => r.Path + " " + r.Body.Length))}\n{castor.Output}");
            await Task.Delay(100);
        }
    }
}
