using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Castor.Application.Embeddings;
using Castor.Application.Models;
using Castor.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Castor.EmbeddingBench;

/// <summary>A real Castor composed by <see cref="CastorHost"/>, as <c>castor serve</c> does, on a free loopback port; called over HTTP.</summary>
public sealed class BenchServer : IAsyncDisposable
{
    private const string ApiKey = "embedding-bench-key-0001";
    private readonly WebApplication _app;
    private readonly string _data;
    private readonly HttpClient _http;

    private BenchServer(WebApplication app, string data, Uri address)
    {
        _app = app;
        _data = data;
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = int.MaxValue, AutomaticDecompression = DecompressionMethods.None })
        {
            BaseAddress = address,
            Timeout = TimeSpan.FromMinutes(10),
        };
        _http.DefaultRequestHeaders.Add("x-goog-api-key", ApiKey);
    }

    public static async Task<BenchServer> StartAsync(int threads, int maxBatch, string? gguf, bool verbose)
    {
        var data = Path.Combine(Path.GetTempPath(), "castor-embedding-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var noModels = Directory.CreateDirectory(Path.Combine(data, "models")).FullName;
        var options = new CastorOptions
        {
            Urls = "http://127.0.0.1:0",
            Models = [noModels],
            Data = data,
            Threads = threads,
            ApiKey = ApiKey,
            MaxEmbedBatchRequests = maxBatch,
            MaxQueue = 1024,
        };
        if (gguf is not null)
            options.ModelSettings["gguf-embedding"] = new ModelSettings { Path = gguf, Embedding = true };
        var app = await CastorHost.BuildAsync(options, verbose ? Console.Out : TextWriter.Null,
            logging => logging.SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning));
        await app.StartAsync();
        return new BenchServer(app, data, new Uri(CastorHost.Addresses(app)[0].TrimEnd('/') + "/"));
    }

    /// <summary>Compute runs of a model so far (one ONNX run or one llama decode each).</summary>
    public long Runs(string model) => _app.Services.GetRequiredService<ModelCatalogue>().ResolveEmbedding(model).Model.Runs;

    public EmbeddingModelEntry Model(string model) => _app.Services.GetRequiredService<ModelCatalogue>().ResolveEmbedding(model);

    public async Task EmbedOneAsync(string model, string text)
    {
        var body = new JsonObject { ["content"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = text }) } };
        var reply = await PostAsync($"v1beta/models/{model}:embedContent", body);
        if (reply["embedding"]?["values"] is not JsonArray { Count: > 0 }) throw new InvalidOperationException("embedContent gave no values.");
    }

    public async Task EmbedBatchAsync(string model, IReadOnlyList<string> texts)
    {
        var requests = new JsonArray();
        foreach (var text in texts)
            requests.Add(new JsonObject { ["model"] = "models/" + model, ["content"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = text }) } });
        var reply = await PostAsync($"v1beta/models/{model}:batchEmbedContents", new JsonObject { ["requests"] = requests });
        if (reply["embeddings"] is not JsonArray array || array.Count != texts.Count) throw new InvalidOperationException("batchEmbedContents gave the wrong number of embeddings.");
    }

    private async Task<JsonNode> PostAsync(string path, JsonObject body)
    {
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path} answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }

    public static double Seconds(long start) => Stopwatch.GetElapsedTime(start).TotalSeconds;
}
