using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Castor.IntegrationTests;

public static class Json
{
    public static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<(int Status, JsonNode? Body)> PostAsync(this HttpClient client, string path, string json)
    {
        using var response = await client.PostAsync(path, Body(json));
        return ((int)response.StatusCode, await ReadAsync(response));
    }

    public static async Task<(int Status, JsonNode? Body)> GetJsonAsync(this HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return ((int)response.StatusCode, await ReadAsync(response));
    }

    public static async Task<JsonNode?> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (text.Length == 0) return null;
        try { return JsonNode.Parse(text); }
        catch (JsonException) { throw new Xunit.Sdk.XunitException($"Response {(int)response.StatusCode} is not JSON: {text[..Math.Min(300, text.Length)]}"); }
    }

    /// <summary>Asserts the Google RPC error shape: error.code (the HTTP status), error.message, error.status.</summary>
    public static JsonNode AssertRpcError(JsonNode? body, int httpStatus, string status)
    {
        Assert.NotNull(body);
        var error = body!["error"];
        Assert.NotNull(error);
        Assert.Equal(httpStatus, error!["code"]!.GetValue<int>());
        Assert.Equal(status, error["status"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        return error;
    }
}
