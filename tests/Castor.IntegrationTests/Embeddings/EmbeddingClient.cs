using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.Embeddings;

/// <summary>Reads embedding replies and does the vector arithmetic the tests need.</summary>
internal static class EmbeddingClient
{
    public static float[] Values(JsonNode? embedding) =>
        embedding!["values"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();

    public static float[] Single(JsonNode? body) => Values(body!["embedding"]);

    public static float[][] Many(JsonNode? body) => body!["embeddings"]!.AsArray().Select(Values).ToArray();

    public static double Norm(float[] v) => Math.Sqrt(v.Sum(x => (double)x * x));

    public static double Cosine(float[] a, float[] b)
    {
        double dot = 0;
        for (var i = 0; i < a.Length; i++) dot += (double)a[i] * b[i];
        return dot / (Norm(a) * Norm(b));
    }

    /// <summary>A batchEmbedContents body in @google/genai's shape, one request per text.</summary>
    public static string Batch(string model, params string[] texts) =>
        "{\"requests\":[" + string.Join(",", texts.Select(t => Request(model, t))) + "]}";

    public static string Request(string model, string text, string extra = "") =>
        $$"""{"model":"models/{{model}}","content":{"role":"user","parts":[{"text":{{JsonValue.Create(text).ToJsonString()}}}]}{{extra}}}""";
}
