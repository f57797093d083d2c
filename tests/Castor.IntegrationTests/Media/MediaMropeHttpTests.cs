using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.Media;

/// <summary>
/// Images through the Gemini API on an M-RoPE model with a dynamic-resolution projector (synthetic Qwen2-VL): the
/// image's token count follows mediaResolution, and an image advances the position by fewer than its tokens.
/// </summary>
public sealed class MediaMropeHttpTests(MediaMropeServerFixture server) : IClassFixture<MediaMropeServerFixture>
{
    private const string Model = "qwen2vl-vision";
    private readonly HttpClient _client = server.CreateClient();

    private static JsonObject Image(byte[] png) =>
        new() { ["inlineData"] = new JsonObject { ["mimeType"] = "image/png", ["data"] = Convert.ToBase64String(png) } };

    private static JsonObject Text(string text) => new() { ["text"] = text };

    private static JsonObject Turn(string role, params JsonObject[] parts) => new() { ["role"] = role, ["parts"] = new JsonArray(parts) };

    private static string Request(IEnumerable<JsonObject> turns, int seed = 7, int maxTokens = 8, string? resolution = null)
    {
        var config = new JsonObject { ["seed"] = seed, ["temperature"] = 0.9, ["maxOutputTokens"] = maxTokens };
        if (resolution is not null) config["mediaResolution"] = resolution;
        return new JsonObject
        {
            // A system instruction keeps the model's transcript form (it has no chat template) the same from the first turn on.
            ["systemInstruction"] = new JsonObject { ["parts"] = new JsonArray(Text("You tell stories.")) },
            ["contents"] = new JsonArray([.. turns.Select(t => t.DeepClone())]),
            ["generationConfig"] = config,
        }.ToJsonString();
    }

    private async Task<JsonNode> Post(string method, string body)
    {
        var (status, response) = await _client.PostAsync($"/v1beta/models/{Model}:{method}", body);
        Assert.True(status == 200, response?.ToJsonString());
        return response!;
    }

    private static string TextOf(JsonNode response) =>
        string.Concat(response["candidates"]![0]!["content"]!["parts"]!.AsArray().Select(p => p!["text"]?.GetValue<string>() ?? ""));

    private static int Detail(JsonNode? details, string modality) =>
        details!.AsArray().FirstOrDefault(d => d!["modality"]!.GetValue<string>() == modality)?["tokenCount"]!.GetValue<int>() ?? 0;

    [Fact]
    public async Task Media_resolution_sets_the_image_tokens_and_count_tokens_agrees_with_usage()
    {
        // 160×120 at 8×8 pixels a token is 300 tokens; LOW allows 66 and MEDIUM 258, so the projector scales it down.
        var png = MediaFiles.Png(41, 160, 120);
        var counts = new Dictionary<string, int>();
        foreach (var level in new[] { "MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM", "MEDIA_RESOLUTION_HIGH" })
        {
            var body = Request([Turn("user", Text("What is this?"), Image(png))], maxTokens: 2, resolution: level);
            // countTokens takes a generation config inside a whole generateContentRequest, as the API's does.
            var inner = JsonNode.Parse(body)!.AsObject();
            inner["model"] = "models/" + Model;
            var count = await Post("countTokens", new JsonObject { ["generateContentRequest"] = inner }.ToJsonString());
            var generated = await Post("generateContent", body);
            var image = Detail(count["promptTokensDetails"], "IMAGE");
            Assert.Equal(image, Detail(generated["usageMetadata"]!["promptTokensDetails"], "IMAGE"));
            Assert.Equal(count["totalTokens"]!.GetValue<int>(), generated["usageMetadata"]!["promptTokenCount"]!.GetValue<int>());
            counts[level] = image;
        }

        Assert.Equal(300, counts["MEDIA_RESOLUTION_HIGH"]);
        Assert.InRange(counts["MEDIA_RESOLUTION_MEDIUM"], 67, 258);
        Assert.InRange(counts["MEDIA_RESOLUTION_LOW"], 8, 66);
    }

    [Fact]
    public async Task The_same_image_and_seed_answer_alike_and_another_image_otherwise()
    {
        var first = TextOf(await Post("generateContent", Request([Turn("user", Text("Once upon a time"), Image(MediaFiles.Png(5, 64, 48)))], seed: 11)));
        var again = TextOf(await Post("generateContent", Request([Turn("user", Text("Once upon a time"), Image(MediaFiles.Png(5, 64, 48)))], seed: 11)));
        var other = TextOf(await Post("generateContent", Request([Turn("user", Text("Once upon a time"), Image(MediaFiles.Png(6, 64, 48)))], seed: 11)));

        Assert.NotEmpty(first);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task Follow_ups_reuse_the_image_and_continue_at_its_position_count()
    {
        // 64×48 pixels: 8×6 tokens over max(8, 6) = 8 positions.
        var png = MediaFiles.Png(61, 64, 48);
        var question = Turn("user", Text("Look at this"), Image(png), Text("and tell me a story."));
        var first = await Post("generateContent", Request([question]));
        var answer = TextOf(first);
        Assert.Equal(48, Detail(first["usageMetadata"]!["promptTokensDetails"], "IMAGE"));

        var turns = new List<JsonObject> { question, Turn("model", Text(answer)), Turn("user", Text("What happens next?")) };
        var second = await Post("generateContent", Request(turns));
        var cached = second["usageMetadata"]!["cachedContentTokenCount"]?.GetValue<int>() ?? 0;
        Assert.True(cached > 48, $"cachedContentTokenCount {cached}");

        // A second follow-up after the first: its reused prefix ends after the first follow-up's text, which was
        // decoded at positions after the image's 8 (the engine tests compare such a prompt with the same one computed
        // cold). Asked twice, it reads the same.
        turns.AddRange([Turn("model", Text(TextOf(second))), Turn("user", Text("And then?"))]);
        var third = await Post("generateContent", Request(turns));
        var thirdAgain = await Post("generateContent", Request(turns));
        Assert.NotEmpty(TextOf(third));
        Assert.True((third["usageMetadata"]!["cachedContentTokenCount"]?.GetValue<int>() ?? 0) > cached);
        Assert.Equal(TextOf(third), TextOf(thirdAgain));
    }
}
