using System.Text.Json;
using Castor.Api.Gemini.Apis;
using Castor.Api.OpenAI.Apis;
using Castor.Application.Errors;
using Castor.Application.Generation;
using GeminiWire = Castor.Api.Gemini.Wire;
using OpenAIWire = Castor.Api.OpenAI.Wire;

namespace Castor.UnitTests.Requests;

/// <summary>Image and audio parts, and media resolution, from both wires into the same typed request.</summary>
public sealed class MediaRequestMappingTests
{
    private static GenerationRequest Gemini(string json) =>
        GeminiMapping.ToGenerationRequest("gemini-2.5-flash", JsonSerializer.Deserialize(json, GeminiWire.GeminiJson.TypeInfo<GeminiWire.GenerateContentRequest>())!);

    private static GenerationRequest OpenAI(string json) =>
        ChatMapping.ToGenerationRequest(JsonSerializer.Deserialize(json, OpenAIWire.OpenAIJson.TypeInfo<OpenAIWire.ChatCompletionRequest>())!).Request;

    [Fact]
    public void Gemini_media_resolution_is_read_per_request_and_per_part_in_both_spellings()
    {
        var request = Gemini("""
            {"contents":[{"parts":[{"text":"x"},{"inlineData":{"mimeType":"image/png","data":"AAAA"},"mediaResolution":{"level":"MEDIA_RESOLUTION_ULTRA_HIGH"}},
              {"file_data":{"mime_type":"image/jpeg","file_uri":"files/abc"},"media_resolution":{"level":"MEDIA_RESOLUTION_LOW"}}]}],
             "generation_config":{"media_resolution":"MEDIA_RESOLUTION_MEDIUM"}}
            """);
        Assert.Equal(MediaResolution.Medium, request.Config.MediaResolution);
        var parts = request.Contents[0].Parts;
        Assert.Equal(MediaResolution.UltraHigh, Assert.IsType<InlineDataPart>(parts[1]).MediaResolution);
        Assert.Equal(MediaResolution.Low, Assert.IsType<FileDataPart>(parts[2]).MediaResolution);
    }

    [Fact]
    public void A_media_resolution_given_as_a_token_count_is_refused_by_name()
    {
        var error = Assert.Throws<CastorException>(() => Gemini("""
            {"contents":[{"parts":[{"inlineData":{"mimeType":"image/png","data":"AAAA"},"mediaResolution":{"numTokens":70}}]}]}
            """));
        Assert.Equal("contents[0].parts[0].mediaResolution.numTokens", error.Field!.ToString());
    }

    [Fact]
    public void OpenAI_image_data_urls_and_audio_become_inline_data_with_detail_as_media_resolution()
    {
        var request = OpenAI("""
            {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x"},
              {"type":"image_url","image_url":{"url":"data:image/webp;base64,UklG","detail":"low"}},
              {"type":"input_audio","input_audio":{"data":"UklG","format":"mp3"}},
              {"type":"image_url","image_url":{"url":"http://127.0.0.1:8787/v1beta/files/abc","detail":"auto"}}]}]}
            """);
        var parts = request.Contents[0].Parts;
        var image = Assert.IsType<InlineDataPart>(parts[1]);
        Assert.Equal(("image/webp", "UklG", MediaResolution.Low), (image.MimeType, image.Base64Data, image.MediaResolution!.Value));
        Assert.Equal("audio/mp3", Assert.IsType<InlineDataPart>(parts[2]).MimeType);
        // A Files API uri is an upload of the caller's project, not a web fetch.
        var file = Assert.IsType<FileDataPart>(parts[3]);
        Assert.Null(file.MediaResolution);
    }

    [Theory]
    [InlineData("https://example.com/cat.png", "image_url.url")]
    [InlineData("http://10.0.0.1/x.jpg", "image_url.url")]
    public void OpenAI_image_urls_on_the_web_are_refused(string url, string field)
    {
        var error = Assert.Throws<CastorException>(() => OpenAI($$$"""
            {"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"{{{url}}}"}}]}]}
            """));
        Assert.Equal("messages[0].content[0]." + field, error.Field!.ToString());
        Assert.Contains("not enabled", error.Message);
    }
}
