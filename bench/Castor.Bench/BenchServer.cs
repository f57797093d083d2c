using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Castor.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Castor.Bench;

/// <summary>What the client saw of one streamed generation. Times are seconds from sending the request.</summary>
public sealed record StreamResult(
    double FirstTextSeconds,
    double EndSeconds,
    int PromptTokens,
    int CandidatesTokens,
    string? FinishReason,
    int Events,
    long StartTimestamp,
    long EndTimestamp)
{
    public double TtftMs => FirstTextSeconds * 1000;
    /// <summary>Tokens after the first, over the time from the first text to the final event: steady-state decode speed.</summary>
    public double DecodeTokensPerSecond => CandidatesTokens > 1 && EndSeconds > FirstTextSeconds ? (CandidatesTokens - 1) / (EndSeconds - FirstTextSeconds) : double.NaN;
    public double EndToEndTokensPerSecond => CandidatesTokens / EndSeconds;
    /// <summary>The median time between consecutive events from the first text on (one token each, mostly): robust to the moments another process takes a core.</summary>
    public double MedianIntervalMs { get; init; } = double.NaN;
}

/// <summary>A stream read by a client in another process: what this process spent is the server's alone.</summary>
public sealed record ExternalStreamResult(int CandidatesTokens, double FirstByteSeconds, double TotalSeconds, ThreadCpu Threads, TimeSpan ProcessCpu)
{
    public double EndToEndTokensPerSecond => CandidatesTokens / TotalSeconds;
    public double ServerCpuMicrosPerToken => ProcessCpu.TotalMicroseconds / Math.Max(1, CandidatesTokens);
    public double EngineCpuMicrosPerToken => Threads.EngineNanoseconds / 1000.0 / Math.Max(1, CandidatesTokens);
    public double OtherCpuMicrosPerToken => Threads.OtherNanoseconds / 1000.0 / Math.Max(1, CandidatesTokens);
}

/// <summary>A real Castor, composed by <see cref="CastorHost"/> exactly as <c>castor serve</c> does, on a free loopback port.</summary>
public sealed class BenchServer : IAsyncDisposable
{
    public const string ApiKey = "castor-bench-key-0001";

    private readonly WebApplication _app;
    private readonly string _data;

    // False when the caller gave the data folder (a restart reuses it): the caller removes it.
    private readonly bool _ownsData;
    private readonly HttpClient _http;

    private BenchServer(WebApplication app, string data, bool ownsData, Uri baseAddress, int parallel)
    {
        _app = app;
        _data = data;
        _ownsData = ownsData;
        BaseAddress = baseAddress;
        Parallel = parallel;
        _http = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromMinutes(10),
        };
        _http.DefaultRequestHeaders.Add("x-goog-api-key", ApiKey);
    }

    public Uri BaseAddress { get; }

    /// <summary>The running server's services, for sections that measure one part directly (the rate limiter in (k)).</summary>
    public IServiceProvider Services => _app.Services;

    public string ModelId { get; private set; } = "";
    public int Parallel { get; }

    public static async Task<BenchServer> StartAsync(string modelPath, int threads, int parallel, int contextSize, bool verbose, CancellationToken cancellationToken,
        Castor.Engine.Models.FlashAttentionMode? flashAttention = null, string? projector = null, string? dataFolder = null,
        Action<CastorOptions>? configure = null)
    {
        // A given data folder outlives the server (a restart reuses it); the caller removes it.
        var data = dataFolder ?? Path.Combine(Path.GetTempPath(), "castor-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var options = new CastorOptions
        {
            Urls = "http://127.0.0.1:0",
            Models = [modelPath],
            Data = data,
            Threads = threads,
            Parallel = parallel,
            ContextSize = contextSize,
            ApiKey = ApiKey,
            FlashAttention = flashAttention,
        };
        if (projector is not null)
            options.ModelSettings[Castor.Engine.Models.GgufDiscovery.IdFor(modelPath)] = new Castor.Application.Models.ModelSettings { Projector = projector };
        configure?.Invoke(options);
        WebApplication? app = null;
        BenchServer? server = null;
        try
        {
            app = await CastorHost.BuildAsync(options, verbose ? Console.Out : TextWriter.Null,
                logging => logging.SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning), cancellationToken);
            await app.StartAsync(cancellationToken);
            var address = new Uri(CastorHost.Addresses(app)[0].TrimEnd('/') + "/");
            server = new BenchServer(app, data, dataFolder is null, address, parallel);
            server.ModelId = await server.FirstModelIdAsync(cancellationToken);
            return server;
        }
        catch
        {
            if (server is not null) await server.DisposeAsync();
            else if (app is not null) await app.DisposeAsync();
            if (dataFolder is null) TryDelete(data);
            throw;
        }
    }

    private async Task<string> FirstModelIdAsync(CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync("v1beta/models", cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode) throw new BenchException($"GET /v1beta/models answered {(int)response.StatusCode}: {body}");
        var models = JsonNode.Parse(body)?["models"]?.AsArray();
        var name = models?.FirstOrDefault()?["name"]?.GetValue<string>()
            ?? throw new BenchException("The server loaded no model (run with --verbose to see its start-up output).");
        return name.StartsWith("models/", StringComparison.Ordinal) ? name["models/".Length..] : name;
    }

    /// <summary>Sends a JSON request to <paramref name="path"/> and returns the answer (a non-2xx status is a <see cref="BenchException"/>).</summary>
    public async Task<JsonNode> PostJsonAsync(string path, JsonObject body, CancellationToken cancellationToken)
    {
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(path, content, cancellationToken);
        var answer = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode) throw new BenchException($"POST {path} answered {(int)response.StatusCode}: {answer}");
        return JsonNode.Parse(answer)!;
    }

    /// <summary>Drops every prompt the server's idle sequences keep resident, so the next request finds nothing to reuse.</summary>
    public Task<int> ReleaseIdlePrefixesAsync() =>
        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Castor.Application.Models.ModelCatalogue>(_app.Services)
            .Models.OfType<Castor.Application.Backends.LlamaBackend>().First().Model.Scheduler.ReleaseIdlePrefixesAsync();

    /// <summary>A plain JSON call (the Batch API's create, get and cancel); throws on an error status.</summary>
    public async Task<JsonNode> SendJsonAsync(HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(method, path);
        if (body is not null) message.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await _http.SendAsync(message, cancellationToken);
        var answer = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode) throw new BenchException($"{method} {path} answered {(int)response.StatusCode}: {answer}");
        return JsonNode.Parse(answer) ?? throw new BenchException($"{method} {path} answered no JSON.");
    }

    /// <summary>Counts tokens with the server's own tokenizer (<c>:countTokens</c> on a lone user turn, BOS included).</summary>
    public async Task<int> CountTokensAsync(string text, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["contents"] = new JsonArray(new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = text }) }) };
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync($"v1beta/models/{ModelId}:countTokens", content, cancellationToken);
        var answer = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode) throw new BenchException($":countTokens answered {(int)response.StatusCode}: {answer}");
        return JsonNode.Parse(answer)?["totalTokens"]?.GetValue<int>() ?? throw new BenchException($":countTokens gave no totalTokens: {answer}");
    }

    /// <summary>The whole <c>:countTokens</c> answer for a request (its promptTokensDetails by modality).</summary>
    public async Task<JsonNode> CountTokensAsync(JsonObject request, CancellationToken cancellationToken)
    {
        using var content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync($"v1beta/models/{ModelId}:countTokens", content, cancellationToken);
        var answer = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode) throw new BenchException($":countTokens answered {(int)response.StatusCode}: {answer}");
        return JsonNode.Parse(answer) ?? throw new BenchException(":countTokens answered nothing.");
    }

    /// <summary>
    /// Sends one <c>:streamGenerateContent?alt=sse</c> request and reads it to the end. The first-text time is taken
    /// when the first <c>data:</c> event with non-empty text arrives; token counts come from the last event's usageMetadata.
    /// </summary>
    /// <summary>
    /// The same stream read by <c>curl</c> in its own process, so this process's CPU time is the server's alone (split
    /// into the engine's threads and the rest by <see cref="ThreadCpu"/>). Null when curl is not installed.
    /// </summary>
    public async Task<ExternalStreamResult?> StreamWithCurlAsync(JsonObject request, CancellationToken cancellationToken)
    {
        var body = Path.Combine(_data, "curl-request.json");
        var output = Path.Combine(_data, "curl-output.txt");
        await File.WriteAllTextAsync(body, request.ToJsonString(), cancellationToken);
        var start = new ProcessStartInfo("curl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "-sS", "-N", "--fail-with-body", "-H", "content-type: application/json", "-H", "x-goog-api-key: " + ApiKey,
                     "--data-binary", "@" + body, "-o", output, "-w", "%{time_starttransfer} %{time_total}",
                     new Uri(BaseAddress, $"v1beta/models/{ModelId}:streamGenerateContent?alt=sse").ToString(),
                 })
            start.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new BenchException("curl did not start.");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
        using (process)
        {
            var cpu = Environment.CpuUsage.TotalTime;
            var threads = ThreadCpu.Now();
            var timings = await process.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = await process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            var used = ThreadCpu.Now() - threads;
            var processCpu = Environment.CpuUsage.TotalTime - cpu;
            if (process.ExitCode != 0) throw new BenchException($"curl failed ({process.ExitCode}): {error}{await File.ReadAllTextAsync(output, cancellationToken)}");
            var parts = timings.Split(' ');
            var candidates = 0;
            foreach (var line in await File.ReadAllLinesAsync(output, cancellationToken))
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
                using var doc = JsonDocument.Parse(line.AsMemory(5));
                if (doc.RootElement.TryGetProperty("usageMetadata", out var usage) && usage.TryGetProperty("candidatesTokenCount", out var c))
                    candidates = c.GetInt32();
            }
            return new ExternalStreamResult(candidates,
                double.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture),
                double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), used, processCpu);
        }
    }

    public async Task<StreamResult> StreamAsync(JsonObject request, CancellationToken cancellationToken)
    {
        var json = request.ToJsonString();
        using var message = new HttpRequestMessage(HttpMethod.Post, $"v1beta/models/{ModelId}:streamGenerateContent?alt=sse")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        var start = Stopwatch.GetTimestamp();
        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new BenchException($"streamGenerateContent answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        long firstText = 0, last = 0;
        var intervals = new List<double>();
        int prompt = 0, candidates = 0, events = 0;
        string? finish = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
            var now = Stopwatch.GetTimestamp();
            events++;
            using var doc = JsonDocument.Parse(line.AsMemory(5));
            var root = doc.RootElement;
            if (root.TryGetProperty("error", out var error))
                throw new BenchException($"The stream failed: {error.GetRawText()}");
            if (firstText == 0 && HasText(root)) firstText = now;
            else if (firstText != 0) intervals.Add(Stopwatch.GetElapsedTime(last, now).TotalMilliseconds);
            if (root.TryGetProperty("usageMetadata", out var usage))
            {
                if (usage.TryGetProperty("promptTokenCount", out var p)) prompt = p.GetInt32();
                if (usage.TryGetProperty("candidatesTokenCount", out var c)) candidates = c.GetInt32();
            }
            if (root.TryGetProperty("candidates", out var cands) && cands.GetArrayLength() > 0
                && cands[0].TryGetProperty("finishReason", out var f))
                finish = f.GetString();
            last = now;
        }
        var end = Stopwatch.GetTimestamp();
        if (events == 0) throw new BenchException("The stream ended without a data event.");
        if (finish is null) throw new BenchException("The stream ended without a finishReason.");
        if (firstText == 0) firstText = last;
        return new StreamResult(
            Stopwatch.GetElapsedTime(start, firstText).TotalSeconds,
            Stopwatch.GetElapsedTime(start, last).TotalSeconds,
            prompt, candidates, finish, events, start, end)
        {
            MedianIntervalMs = Stats.Median(intervals),
        };
    }

    private static bool HasText(JsonElement root)
    {
        if (!root.TryGetProperty("candidates", out var candidates) || candidates.ValueKind != JsonValueKind.Array) return false;
        foreach (var candidate in candidates.EnumerateArray())
        {
            if (!candidate.TryGetProperty("content", out var content) || !content.TryGetProperty("parts", out var parts)) continue;
            foreach (var part in parts.EnumerateArray())
                if (part.TryGetProperty("text", out var text) && text.GetString() is { Length: > 0 })
                    return true;
        }
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        try
        {
            await _app.StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
            if (_ownsData) TryDelete(_data);
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

public sealed class BenchException(string message) : Exception(message);
