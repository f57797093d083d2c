using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.Batches;

/// <summary>The Batch API as the SDKs call it: create, poll get until done, and JSONL input files.</summary>
public static class BatchClient
{
    public const string Model = "gemini-2.5-flash";

    /// <summary>A short generateContent request (few output tokens keep the tests fast on 2 cores).</summary>
    public static object Request(string text, int maxOutputTokens = 4) => new
    {
        contents = new[] { new { role = "user", parts = new[] { new { text } } } },
        generationConfig = new { maxOutputTokens, temperature = 0 },
    };

    public static async Task<JsonNode> CreateInlineAsync(HttpClient client, IEnumerable<object> requests, string displayName = "inline-batch",
        string method = "batchGenerateContent", string model = Model)
    {
        var body = JsonSerializer.Serialize(new { batch = new { displayName, inputConfig = new { requests = new { requests } } } });
        var (status, operation) = await client.PostAsync($"/v1beta/models/{model}:{method}", body);
        Assert.True(status == 200, operation?.ToJsonString());
        return operation!;
    }

    public static async Task<JsonNode> CreateFromFileAsync(HttpClient client, string fileName, string displayName = "file-batch")
    {
        var body = JsonSerializer.Serialize(new { batch = new { displayName, inputConfig = new { fileName } } });
        var (status, operation) = await client.PostAsync($"/v1beta/models/{Model}:batchGenerateContent", body);
        Assert.True(status == 200, operation?.ToJsonString());
        return operation!;
    }

    /// <summary>Uploads JSONL lines as a file and returns its name (<c>files/…</c>).</summary>
    public static async Task<string> UploadJsonlAsync(HttpClient client, IEnumerable<string> lines)
    {
        var bytes = Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");
        var file = await Files.Uploads.UploadAsync(client, bytes, "application/jsonl", displayName: "requests.jsonl");
        return file.GetProperty("name").GetString()!;
    }

    public static string Line(string key, object request) => JsonSerializer.Serialize(new { key, request });

    /// <summary>Polls <c>batches.get</c> until <c>done</c>, as the docs' loop does.</summary>
    public static async Task<JsonNode> WaitAsync(HttpClient client, string name, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(3));
        while (true)
        {
            var (status, operation) = await client.GetJsonAsync("/v1beta/" + name);
            Assert.True(status == 200, operation?.ToJsonString());
            if (operation!["done"]?.GetValue<bool>() == true) return operation;
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException($"{name} did not finish: {operation.ToJsonString()}");
            await Task.Delay(50);
        }
    }

    public static string State(JsonNode operation) => operation["metadata"]!["state"]!.GetValue<string>();

    public static long Stat(JsonNode operation, string name) => long.Parse(operation["metadata"]!["batchStats"]![name]!.GetValue<string>());
}
