using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.Media;

/// <summary>Images and audio through the Gemini API, on synthetic projectors paired with the test model.</summary>
public sealed class MediaHttpTests(MediaServerFixture server) : IClassFixture<MediaServerFixture>
{
    private readonly HttpClient _client = server.CreateClient();

    private static JsonObject Inline(string mime, byte[] data) =>
        new() { ["inlineData"] = new JsonObject { ["mimeType"] = mime, ["data"] = Convert.ToBase64String(data) } };

    private static string Request(string text, JsonObject? media, int seed = 7, int maxTokens = 16, string after = "")
    {
        var parts = new JsonArray { new JsonObject { ["text"] = text } };
        if (media is not null) parts.Add(media);
        if (after.Length > 0) parts.Add(new JsonObject { ["text"] = after });
        return new JsonObject
        {
            ["contents"] = new JsonArray { new JsonObject { ["role"] = "user", ["parts"] = parts } },
            ["generationConfig"] = new JsonObject { ["seed"] = seed, ["temperature"] = 0.9, ["maxOutputTokens"] = maxTokens },
        }.ToJsonString();
    }

    private async Task<JsonNode> Generate(string model, string body)
    {
        var (status, response) = await _client.PostAsync($"/v1beta/models/{model}:generateContent", body);
        Assert.True(status == 200, response?.ToJsonString());
        return response!;
    }

    private static string TextOf(JsonNode response) =>
        string.Concat(response["candidates"]![0]!["content"]!["parts"]!.AsArray().Select(p => p!["text"]?.GetValue<string>() ?? ""));

    private static int Detail(JsonNode? details, string modality) =>
        details!.AsArray().FirstOrDefault(d => d!["modality"]!.GetValue<string>() == modality)?["tokenCount"]!.GetValue<int>() ?? 0;

    [Fact]
    public async Task Models_say_what_they_accept_and_projectors_are_not_models()
    {
        var (_, vision) = await _client.GetJsonAsync("/v1beta/models/stories-vision");
        var (_, audio) = await _client.GetJsonAsync("/v1beta/models/stories-audio");
        var (_, text) = await _client.GetJsonAsync("/v1beta/models/stories260k");
        var (_, list) = await _client.GetJsonAsync("/v1beta/models?pageSize=100");

        Assert.Contains("Accepts text and images", vision!["description"]!.GetValue<string>());
        Assert.Contains("Accepts text and audio", audio!["description"]!.GetValue<string>());
        Assert.DoesNotContain("Accepts", text!["description"]!.GetValue<string>());
        Assert.DoesNotContain(list!["models"]!.AsArray(), m => m!["name"]!.GetValue<string>().Contains("mmproj", StringComparison.Ordinal));
        Assert.Contains("stories-vision", server.Console.ToString());
    }

    [Fact]
    public async Task Image_tokens_are_counted_apart_from_text_and_agree_with_usage()
    {
        var body = Request("What is in this picture?", Inline("image/png", MediaFiles.Png(1)), maxTokens: 2);
        var (status, count) = await _client.PostAsync("/v1beta/models/stories-vision:countTokens", body);
        var generated = await Generate("stories-vision", body);

        Assert.Equal(200, status);
        Assert.Equal(16, Detail(count!["promptTokensDetails"], "IMAGE"));
        Assert.True(Detail(count["promptTokensDetails"], "TEXT") > 0);
        Assert.Equal(count["totalTokens"]!.GetValue<int>(), Detail(count["promptTokensDetails"], "TEXT") + 16);
        var usage = generated["usageMetadata"]!;
        Assert.Equal(count["totalTokens"]!.GetValue<int>(), usage["promptTokenCount"]!.GetValue<int>());
        Assert.Equal(16, Detail(usage["promptTokensDetails"], "IMAGE"));
    }

    [Fact]
    public async Task Audio_tokens_are_counted_and_audio_is_heard()
    {
        var body = Request("Listen:", Inline("audio/wav", MediaFiles.Wav()), maxTokens: 2);
        var (status, count) = await _client.PostAsync("/v1beta/models/stories-audio:countTokens", body);
        Assert.Equal(200, status);
        var audio = Detail(count!["promptTokensDetails"], "AUDIO");
        Assert.True(audio > 0);
        Assert.Equal(0, Detail(count["promptTokensDetails"], "IMAGE"));

        var generated = await Generate("stories-audio", body);
        Assert.Equal(audio, Detail(generated["usageMetadata"]!["promptTokensDetails"], "AUDIO"));
    }

    [Fact]
    public async Task OpenAI_usage_reports_audio_tokens_apart_and_counts_images_in_prompt_tokens()
    {
        using var openai = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        openai.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", CastorServerFixture.ApiKey);
        var wav = Convert.ToBase64String(MediaFiles.Wav());
        var png = Convert.ToBase64String(MediaFiles.Png(1));
        var (_, geminiAudio) = await _client.PostAsync("/v1beta/models/stories-audio:countTokens", Request("Listen:", Inline("audio/wav", MediaFiles.Wav())));
        var (_, geminiImage) = await _client.PostAsync("/v1beta/models/stories-vision:countTokens", Request("Look:", Inline("image/png", MediaFiles.Png(1))));

        var (status, audio) = await openai.PostAsync("/v1beta/openai/chat/completions", $$$"""
            {"model":"stories-audio","max_tokens":2,"messages":[{"role":"user","content":[{"type":"text","text":"Listen:"},{"type":"input_audio","input_audio":{"data":"{{{wav}}}","format":"wav"}}]}]}
            """);
        Assert.True(status == 200, audio?.ToJsonString());
        var (imageStatus, image) = await openai.PostAsync("/v1beta/openai/chat/completions", $$$"""
            {"model":"stories-vision","max_tokens":2,"messages":[{"role":"user","content":[{"type":"text","text":"Look:"},{"type":"image_url","image_url":{"url":"data:image/png;base64,{{{png}}}"}}]}]}
            """);
        Assert.True(imageStatus == 200, image?.ToJsonString());

        var audioTokens = Detail(geminiAudio!["promptTokensDetails"], "AUDIO");
        Assert.True(audioTokens > 0);
        Assert.Equal(audioTokens, (int)audio!["usage"]!["prompt_tokens_details"]!["audio_tokens"]!);
        Assert.True((int)audio["usage"]!["prompt_tokens"]! > audioTokens);
        // OpenAI's prompt_tokens_details has no image field: image tokens are in prompt_tokens, none of them audio.
        Assert.Equal(0, (int)image!["usage"]!["prompt_tokens_details"]!["audio_tokens"]!);
        Assert.True((int)image["usage"]!["prompt_tokens"]! > Detail(geminiImage!["promptTokensDetails"], "IMAGE"));
    }

    [Fact]
    public async Task The_same_image_and_seed_answer_alike_and_another_image_otherwise()
    {
        var first = TextOf(await Generate("stories-vision", Request("Once upon a time", Inline("image/png", MediaFiles.Png(5)), seed: 11)));
        var again = TextOf(await Generate("stories-vision", Request("Once upon a time", Inline("image/png", MediaFiles.Png(5)), seed: 11)));
        var other = TextOf(await Generate("stories-vision", Request("Once upon a time", Inline("image/png", MediaFiles.Png(6)), seed: 11)));

        Assert.NotEmpty(first);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task A_follow_up_about_the_same_image_reports_its_tokens_as_cached()
    {
        var png = MediaFiles.Png(31);
        await Generate("stories-vision", Request("Describe", Inline("image/png", png), maxTokens: 2, after: "in one line."));
        var followUp = await Generate("stories-vision", Request("Describe", Inline("image/png", png), maxTokens: 2, after: "in one line. Then name its colours."));

        var cached = followUp["usageMetadata"]!["cachedContentTokenCount"]?.GetValue<int>() ?? 0;
        Assert.True(cached > 16, $"cachedContentTokenCount {cached}");
    }

    [Fact]
    public async Task A_text_stream_reads_the_same_while_images_are_encoded_beside_it()
    {
        var text = Request("The little dog", null, seed: 3, maxTokens: 40);
        var alone = TextOf(await Generate("stories-vision", text));

        var images = Enumerable.Range(0, 3)
            .Select(i => Generate("stories-vision", Request("Picture", Inline("image/png", MediaFiles.Png(200 + i)), seed: i)))
            .ToList();
        var together = TextOf(await Generate("stories-vision", text));
        await Task.WhenAll(images);

        Assert.Equal(alone, together);
    }

    [Fact]
    public async Task Audio_to_a_vision_model_and_an_image_to_a_text_model_are_400s()
    {
        var (audioStatus, audioBody) = await _client.PostAsync("/v1beta/models/stories-vision:generateContent",
            Request("Hear", Inline("audio/wav", MediaFiles.Wav())));
        var (imageStatus, imageBody) = await _client.PostAsync("/v1beta/models/stories260k:generateContent",
            Request("See", Inline("image/png", MediaFiles.Png(1))));

        Assert.Equal(400, audioStatus);
        Json.AssertRpcError(audioBody, 400, "INVALID_ARGUMENT");
        Assert.Equal(400, imageStatus);
        Json.AssertRpcError(imageBody, 400, "INVALID_ARGUMENT");
    }
}
