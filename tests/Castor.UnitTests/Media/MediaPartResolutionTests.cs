using Castor.Application.Errors;
using Castor.Application.Files;
using Castor.Application.Generation;
using Castor.Application.Media;
using Castor.Engine.Media;
using SkiaSharp;

namespace Castor.UnitTests.Media;

/// <summary>How FilePartResolver turns inline images and audio into MediaParts, or refuses them, before generation sees them.</summary>
public class MediaPartResolutionTests
{
    private static readonly MediaTarget Vision = new("vision-model", new MediaSupport(Images: true, Audio: false));
    private static readonly MediaTarget Everything = new("omni-model", new MediaSupport(Images: true, Audio: true, AudioSampleRate: 24_000));
    private static readonly MediaTarget TextOnly = new("text-model", MediaSupport.None);

    private static FilePartResolver Resolver(MediaLimits? limits = null) =>
        new(store: null!, content: null!, new FileLimits(), pdfs: null!, new MediaDecoder(), limits ?? new MediaLimits());

    private static string Png()
    {
        using var bitmap = TestMedia.Quadrants(8, 4);
        return Convert.ToBase64String(TestMedia.Encode(bitmap, SKEncodedImageFormat.Png));
    }

    private static string Wav() => Convert.ToBase64String(TestMedia.Wav(TestMedia.Sine(440, 16_000, 0.1), 16_000));

    private static GenerationRequest Request(params Part[] parts) => new() { Model = "m", Contents = [new Content("user", parts)] };

    private static Task<GenerationRequest> Resolve(GenerationRequest request, MediaTarget target, MediaLimits? limits = null) =>
        Resolver(limits).ResolveAsync(request, "project", () => target, CancellationToken.None);

    [Fact]
    public async Task Images_and_audio_become_media_parts_in_their_place_among_text_parts()
    {
        var resolved = await Resolve(Request(
            new TextPart("Compare"),
            new InlineDataPart("image/png", Png()) { MediaResolution = MediaResolution.High },
            new TextPart("with"),
            new InlineDataPart("audio/wav", Wav())), Everything);

        var parts = resolved.Contents[0].Parts;
        Assert.Equal(4, parts.Count);
        Assert.Equal("Compare", Assert.IsType<TextPart>(parts[0]).Text);
        var image = Assert.IsType<MediaPart>(parts[1]);
        Assert.Equal(MediaResolution.High, image.Resolution);
        Assert.Equal((8, 4), (Assert.IsType<DecodedImage>(image.Media).Width, ((DecodedImage)image.Media).Height));
        Assert.Equal("with", Assert.IsType<TextPart>(parts[2]).Text);
        var audio = Assert.IsType<DecodedAudio>(Assert.IsType<MediaPart>(parts[3]).Media);
        // Resampled to the projector's rate, whatever the file's.
        Assert.Equal(24_000, audio.SampleRate);
        Assert.Null(((MediaPart)parts[3]).Resolution);
    }

    [Fact]
    public async Task A_text_only_model_refuses_an_image_naming_the_part_and_its_type()
    {
        var error = await Assert.ThrowsAsync<CastorException>(() => Resolve(Request(new TextPart("Describe"), new InlineDataPart("image/png", Png())), TextOnly));
        Assert.Equal("contents[0].parts[1].inlineData.mimeType", error.Field!.ToString());
        Assert.Contains("'text-model' has no vision projector", error.Message);
        Assert.Contains("image/png", error.Message);
    }

    [Fact]
    public async Task A_vision_only_model_refuses_audio()
    {
        var error = await Assert.ThrowsAsync<CastorException>(() => Resolve(Request(new InlineDataPart("audio/wav", Wav())), Vision));
        Assert.Equal("contents[0].parts[0].inlineData.mimeType", error.Field!.ToString());
        Assert.Contains("no audio projector", error.Message);
    }

    [Fact]
    public async Task The_model_is_asked_only_when_there_is_media()
    {
        var asked = 0;
        var request = Request(new TextPart("hi"), new InlineDataPart("text/plain", Convert.ToBase64String("notes"u8.ToArray())));
        var resolved = await Resolver().ResolveAsync(request, "project", () => { asked++; return Everything; }, CancellationToken.None);
        Assert.Equal(0, asked);
        Assert.Equal("notes", Assert.IsType<TextPart>(resolved.Contents[0].Parts[1]).Text);

        await Resolver().ResolveAsync(Request(new InlineDataPart("image/png", Png()), new InlineDataPart("image/png", Png())), "project",
            () => { asked++; return Everything; }, CancellationToken.None);
        Assert.Equal(1, asked);
    }

    [Fact]
    public async Task Base64_garbage_is_refused_naming_the_data()
    {
        var error = await Assert.ThrowsAsync<CastorException>(() => Resolve(Request(new InlineDataPart("image/png", "!!not base64!!")), Vision));
        Assert.Equal("contents[0].parts[0].inlineData.data", error.Field!.ToString());
        Assert.Contains("base64", error.Message);
    }

    [Fact]
    public async Task Inline_data_past_the_inline_limit_is_refused_before_it_is_decoded()
    {
        var error = await Assert.ThrowsAsync<CastorException>(() =>
            Resolve(Request(new InlineDataPart("image/png", new string('A', 4000))), Vision, new MediaLimits { MaxInlineBytes = 1000 }));
        Assert.Equal("contents[0].parts[0].inlineData.data", error.Field!.ToString());
        Assert.Contains("Files API", error.Message);
    }

    [Fact]
    public async Task A_request_is_bounded_in_media_parts_and_in_decoded_bytes()
    {
        var three = Request(new InlineDataPart("image/png", Png()), new InlineDataPart("image/png", Png()), new InlineDataPart("image/png", Png()));
        var error = await Assert.ThrowsAsync<CastorException>(() => Resolve(three, Vision, new MediaLimits { MaxPartsPerRequest = 2 }));
        Assert.Equal("contents[0].parts[2].inlineData", error.Field!.ToString());

        // Each 8x4 image decodes to 96 bytes: the second passes 150.
        error = await Assert.ThrowsAsync<CastorException>(() => Resolve(three, Vision, new MediaLimits { MaxDecodedBytesPerRequest = 150 }));
        Assert.Equal("contents[0].parts[1].inlineData", error.Field!.ToString());
        Assert.Contains("more than 150 bytes", error.Message);
    }

    [Fact]
    public async Task A_corrupt_image_in_the_system_instruction_names_that_part()
    {
        var request = Request(new TextPart("hi")) with
        {
            SystemInstruction = new Content("user", [new TextPart("x"), new InlineDataPart("image/jpeg", Convert.ToBase64String([0xFF, 0xD8, 0xFF, 0, 1, 2, 3]))]),
        };
        var error = await Assert.ThrowsAsync<CastorException>(() => Resolve(request, Vision));
        Assert.Equal("systemInstruction.parts[1].inlineData", error.Field!.ToString());
    }

    [Theory]
    [InlineData("MEDIA_RESOLUTION_LOW", false, MediaResolution.Low)]
    [InlineData("MEDIA_RESOLUTION_MEDIUM", false, MediaResolution.Medium)]
    [InlineData("MEDIA_RESOLUTION_HIGH", false, MediaResolution.High)]
    [InlineData("MEDIA_RESOLUTION_ULTRA_HIGH", true, MediaResolution.UltraHigh)]
    [InlineData("MEDIA_RESOLUTION_UNSPECIFIED", false, null)]
    [InlineData(null, false, null)]
    public void Media_resolution_names_are_the_APIs(string? name, bool perPart, MediaResolution? expected) =>
        Assert.Equal(expected, MediaResolutionNames.Parse(name, FieldPath.Of("x"), perPart));

    [Fact]
    public void Ultra_high_is_a_per_part_level_only()
    {
        var error = Assert.Throws<CastorException>(() => MediaResolutionNames.Parse("MEDIA_RESOLUTION_ULTRA_HIGH", FieldPath.Parse("generationConfig.mediaResolution")));
        Assert.Equal("generationConfig.mediaResolution", error.Field!.ToString());
    }
}
