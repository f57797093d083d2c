using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Castor.IntegrationTests.Files;
using SkiaSharp;

namespace Castor.IntegrationTests.Media;

/// <summary>
/// Images and audio through HTTP, against the text-only test model: every media part is a 400 that names the part and
/// says why (the model has no projector, the type is not one the API takes, the URL would have to be fetched), and
/// mediaResolution is read and checked on both wires' paths.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class MediaPartsHttpTests(CastorServerFixture server)
{
    private const string Generate = "/v1beta/models/gemini-2.5-flash:generateContent";
    private readonly HttpClient _client = server.CreateClient();

    private static string Png()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(8, 8, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(SKColors.Red);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return Convert.ToBase64String(data.ToArray());
    }

    private static string Wav()
    {
        var wav = new MemoryStream();
        var w = new BinaryWriter(wav);
        w.Write("RIFF"u8); w.Write(36 + 3200); w.Write("WAVEfmt "u8); w.Write(16); w.Write((ushort)1); w.Write((ushort)1);
        w.Write(16_000); w.Write(32_000); w.Write((ushort)2); w.Write((ushort)16); w.Write("data"u8); w.Write(3200);
        for (var i = 0; i < 1600; i++) w.Write((short)(8000 * Math.Sin(2 * Math.PI * 440 * i / 16_000)));
        return Convert.ToBase64String(wav.ToArray());
    }

    private static string Body(params JsonNode[] parts) =>
        new JsonObject { ["contents"] = new JsonArray(new JsonObject { ["role"] = "user", ["parts"] = new JsonArray(parts) }) }.ToJsonString();

    private static JsonObject Inline(string mimeType, string data) => new() { ["inlineData"] = new JsonObject { ["mimeType"] = mimeType, ["data"] = data } };

    private static (string Message, string Field) Violation(JsonNode? body)
    {
        var error = Json.AssertRpcError(body, 400, "INVALID_ARGUMENT");
        return ((string)error["message"]!, (string)error["details"]![0]!["fieldViolations"]![0]!["field"]!);
    }

    [Fact]
    public async Task An_image_for_a_model_without_a_vision_projector_is_a_400_naming_the_part()
    {
        var (status, body) = await _client.PostAsync(Generate, Body(new JsonObject { ["text"] = "What is this?" }, Inline("image/png", Png())));
        Assert.Equal(400, status);
        var (message, field) = Violation(body);
        Assert.Equal("contents[0].parts[1].inlineData.mimeType", field);
        Assert.Contains("has no vision projector", message);
    }

    [Fact]
    public async Task Audio_for_countTokens_on_a_model_without_an_audio_projector_is_a_400_naming_the_part()
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", Body(Inline("audio/wav", Wav())));
        Assert.Equal(400, status);
        var (message, field) = Violation(body);
        Assert.Equal("contents[0].parts[0].inlineData.mimeType", field);
        Assert.Contains("has no audio projector", message);
    }

    [Theory]
    [InlineData("image/gif")]
    [InlineData("audio/midi")]
    public async Task Media_types_the_API_does_not_accept_are_refused_by_type(string type)
    {
        var (status, body) = await _client.PostAsync(Generate, Body(Inline(type, "AAAA")));
        Assert.Equal(400, status);
        var (message, field) = Violation(body);
        Assert.Equal("contents[0].parts[0].inlineData.mimeType", field);
        Assert.Contains("Unsupported MIME type: " + type, message);
    }

    [Fact]
    public async Task An_uploaded_image_used_as_fileData_is_refused_naming_the_part()
    {
        var file = await Uploads.UploadAsync(_client, Convert.FromBase64String(Png()), "image/png");
        Assert.Equal("image/png", file.GetProperty("mimeType").GetString());
        var part = new JsonObject { ["fileData"] = new JsonObject { ["mimeType"] = "image/png", ["fileUri"] = file.GetProperty("uri").GetString() } };
        var (status, body) = await _client.PostAsync(Generate, Body(part, new JsonObject { ["text"] = "Describe it" }));
        Assert.Equal(400, status);
        var (message, field) = Violation(body);
        Assert.Equal("contents[0].parts[0].fileData.mimeType", field);
        Assert.Contains("has no vision projector", message);
    }

    [Fact]
    public async Task Media_resolution_is_read_from_the_request_and_each_part()
    {
        var ok = new JsonObject
        {
            ["contents"] = new JsonArray(new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = "Once" }) }),
            ["generationConfig"] = new JsonObject { ["mediaResolution"] = "MEDIA_RESOLUTION_LOW", ["maxOutputTokens"] = 2 },
        };
        var (status, _) = await _client.PostAsync(Generate, ok.ToJsonString());
        Assert.Equal(200, status);

        ok["generationConfig"]!["mediaResolution"] = "MEDIA_RESOLUTION_TINY";
        (status, var body) = await _client.PostAsync(Generate, ok.ToJsonString());
        Assert.Equal(400, status);
        Assert.Equal("generationConfig.mediaResolution", Violation(body).Field);

        var part = Inline("image/png", Png());
        part["mediaResolution"] = new JsonObject { ["level"] = "MEDIA_RESOLUTION_SUPER" };
        (status, body) = await _client.PostAsync(Generate, Body(part));
        Assert.Equal(400, status);
        var (message, field) = Violation(body);
        Assert.Equal("contents[0].parts[0].mediaResolution.level", field);
        Assert.Contains("MEDIA_RESOLUTION_HIGH", message);
    }

    [Fact]
    public async Task OpenAI_image_urls_on_the_web_are_refused_and_audio_names_its_message_part()
    {
        using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", CastorServerFixture.ApiKey);
        var (status, body) = await client.PostAsync("/v1beta/openai/chat/completions", """
            {"model":"gemini-2.5-flash","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}
            """);
        Assert.Equal(400, status);
        var error = body!["error"]!;
        Assert.Equal("messages[0].content[1].image_url.url", (string?)error["param"]);
        Assert.Contains("fetching images from URLs is not enabled", (string)error["message"]!);

        (status, body) = await client.PostAsync("/v1beta/openai/chat/completions", $$$"""
            {"model":"gemini-2.5-flash","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"{{{Wav()}}}","format":"wav"}}]}]}
            """);
        Assert.Equal(400, status);
        error = body!["error"]!;
        Assert.Equal("messages[0].content[0]", (string?)error["param"]);
        Assert.Contains("has no audio projector", (string)error["message"]!);
    }
}
