using Castor.Application.Errors;
using Castor.Application.Media;
using Castor.Engine.Media;
using SkiaSharp;

namespace Castor.UnitTests.Media;

public class MediaDecoderTests
{
    private const string Part = "contents[0].parts[1].inlineData";
    private static readonly FieldPath Field = FieldPath.Parse(Part);
    private readonly MediaDecoder _decoder = new();

    private Task<DecodedMedia> Decode(string mimeType, byte[] data, MediaLimits? limits = null, int rate = 16_000) =>
        _decoder.DecodeAsync(mimeType, data, limits ?? new MediaLimits(), rate, Field, CancellationToken.None);

    private async Task<CastorException> Refused(string mimeType, byte[] data, MediaLimits? limits = null)
    {
        var error = await Assert.ThrowsAsync<CastorException>(() => Decode(mimeType, data, limits));
        Assert.Equal(ErrorStatus.InvalidArgument, error.Status);
        Assert.StartsWith(Part, error.Field!.ToString());
        return error;
    }

    [Fact]
    public async Task A_png_decodes_to_its_rgb_rows_top_to_bottom()
    {
        using var bitmap = TestMedia.Quadrants(4, 2);
        var image = Assert.IsType<DecodedImage>(await Decode("image/png", TestMedia.Encode(bitmap, SKEncodedImageFormat.Png)));
        Assert.Equal((4, 2, "image/png"), (image.Width, image.Height, image.MimeType));
        Assert.Equal(new byte[] { 255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255, 255 }, image.Rgb);
        Assert.Equal(32, image.ContentHash.Length);
    }

    [Fact]
    public async Task The_same_picture_as_png_and_lossless_webp_is_one_item_and_another_picture_is_not()
    {
        using var bitmap = TestMedia.Quadrants(16, 8);
        var png = Assert.IsType<DecodedImage>(await Decode("image/png", TestMedia.Encode(bitmap, SKEncodedImageFormat.Png)));
        var webp = Assert.IsType<DecodedImage>(await Decode("image/webp", TestMedia.Encode(bitmap, SKEncodedImageFormat.Webp)));
        Assert.Equal(png.Rgb, webp.Rgb);
        Assert.Equal(png.ContentHash, webp.ContentHash);

        using var other = TestMedia.Quadrants(8, 16);
        var different = await Decode("image/png", TestMedia.Encode(other, SKEncodedImageFormat.Png));
        Assert.NotEqual(png.ContentHash, different.ContentHash);
    }

    [Fact]
    public async Task A_jpeg_decodes_to_colours_close_to_its_own()
    {
        using var bitmap = TestMedia.Bitmap(16, 16, (_, _) => new SKColor(200, 40, 90));
        var image = Assert.IsType<DecodedImage>(await Decode("image/jpeg", TestMedia.Encode(bitmap, SKEncodedImageFormat.Jpeg, 95)));
        Assert.Equal((16, 16), (image.Width, image.Height));
        Assert.InRange(image.Rgb[0], 190, 210);
        Assert.InRange(image.Rgb[1], 30, 50);
        Assert.InRange(image.Rgb[2], 80, 100);
    }

    [Theory]
    [InlineData(1, 16, 8, 255, 0, 0)]   // upright: red at the top left
    [InlineData(3, 16, 8, 255, 255, 255)] // upside down: white
    [InlineData(6, 8, 16, 0, 0, 255)]   // turned 90° clockwise to view: the stored bottom left (blue)
    [InlineData(8, 8, 16, 0, 255, 0)]   // turned 90° counter-clockwise to view: the stored top right (green)
    public async Task Exif_orientation_is_applied_so_the_model_sees_the_picture_upright(int orientation, int width, int height, int r, int g, int b)
    {
        using var bitmap = TestMedia.Quadrants(16, 8);
        var jpeg = TestMedia.WithExifOrientation(TestMedia.Encode(bitmap, SKEncodedImageFormat.Jpeg, 100), (ushort)orientation);
        var image = Assert.IsType<DecodedImage>(await Decode("image/jpeg", jpeg));
        Assert.Equal((width, height), (image.Width, image.Height));
        Assert.InRange(image.Rgb[0], r - 40, r + 40);
        Assert.InRange(image.Rgb[1], g - 40, g + 40);
        Assert.InRange(image.Rgb[2], b - 40, b + 40);
    }

    [Fact]
    public async Task Cancelling_stops_an_FFmpeg_decode()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            _decoder.DecodeAsync("audio/flac", TestMedia.FixtureBytes("tone-440hz.flac"), new MediaLimits(), 16_000, Field, cancelled.Token));
    }

    [Fact]
    public async Task Without_FFmpeg_flac_is_a_400_that_says_so()
    {
        var limits = new MediaLimits { FfmpegPath = "/nonexistent/ffmpeg" };
        var error = await Refused("audio/flac", TestMedia.FixtureBytes("tone-440hz.flac"), limits);
        Assert.Contains("needs FFmpeg", error.Message);
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png, "image/png")]
    [InlineData(SKEncodedImageFormat.Jpeg, "image/jpeg")]
    [InlineData(SKEncodedImageFormat.Webp, "image/webp")]
    public async Task Images_larger_than_MaxImagePixels_are_scaled_down_keeping_their_aspect(SKEncodedImageFormat format, string type)
    {
        using var bitmap = TestMedia.Quadrants(400, 200);
        var limits = new MediaLimits { MaxImagePixels = 5000 };
        var image = Assert.IsType<DecodedImage>(await Decode(type, TestMedia.Encode(bitmap, format, 90), limits));
        Assert.InRange((long)image.Width * image.Height, 4000, 5000);
        Assert.InRange(image.Width / (double)image.Height, 1.9, 2.1);
        Assert.Equal(image.Width * image.Height * 3, image.Rgb.Length);
        // Still the same picture: red at the top left, white at the bottom right.
        Assert.True(image.Rgb[0] > 200 && image.Rgb[1] < 60);
        Assert.True(image.Rgb[^3] > 200 && image.Rgb[^2] > 200 && image.Rgb[^1] > 200);
    }

    [Fact]
    public async Task A_header_claiming_more_pixels_than_allowed_is_refused_before_decoding()
    {
        var error = await Refused("image/png", TestMedia.PngHeaderOnly(60_000, 60_000));
        Assert.Contains("60000x60000", error.Message);
        Assert.Contains("at most", error.Message);
    }

    [Fact]
    public async Task A_png_too_large_to_decode_whole_is_refused_by_its_header()
    {
        var limits = new MediaLimits { MaxImageDecodePixels = 100 * 100, MaxImagePixels = 50 * 50 };
        var error = await Refused("image/png", TestMedia.PngHeaderOnly(200, 200), limits);
        Assert.Contains("200x200", error.Message);
    }

    [Fact]
    public async Task Truncated_and_corrupt_images_are_refused_naming_the_part()
    {
        using var bitmap = TestMedia.Quadrants(64, 64);
        var png = TestMedia.Encode(bitmap, SKEncodedImageFormat.Png);
        var jpeg = TestMedia.Encode(TestMedia.Bitmap(64, 64, (x, y) => new SKColor((byte)(x * 4), (byte)(y * 4), 7)), SKEncodedImageFormat.Jpeg, 90);
        await Refused("image/png", png[..(png.Length / 2)]);
        await Refused("image/jpeg", jpeg[..(jpeg.Length / 2)]);
        await Refused("image/png", png[..20]);

        var corrupt = (byte[])png.Clone();
        for (var i = 40; i < corrupt.Length - 20; i++) corrupt[i] ^= 0x5A;
        await Refused("image/png", corrupt);
    }

    [Fact]
    public async Task Bytes_of_another_type_than_the_label_are_refused_as_such()
    {
        using var bitmap = TestMedia.Quadrants(8, 8);
        var error = await Refused("image/png", TestMedia.Encode(bitmap, SKEncodedImageFormat.Jpeg));
        Assert.Equal(Part + ".data", error.Field!.ToString());
        Assert.Contains("not image/png", error.Message);

        error = await Refused("audio/wav", "hello, this is text and not a wave file"u8.ToArray());
        Assert.Contains("not audio/wav", error.Message);
        await Refused("audio/mp3", TestMedia.Wav(TestMedia.Sine(440, 8000, 0.1), 8000));
    }

    [Theory]
    [InlineData("image/gif")]
    [InlineData("image/bmp")]
    [InlineData("audio/midi")]
    [InlineData("video/mp4")]
    [InlineData("application/octet-stream")]
    public async Task Types_the_API_does_not_accept_are_refused_naming_the_mime_type(string type)
    {
        var error = await Refused(type, [1, 2, 3, 4]);
        Assert.Equal(Part + ".mimeType", error.Field!.ToString());
        Assert.Contains("Unsupported MIME type: " + type, error.Message);
    }

    [Fact]
    public async Task Heic_decodes_through_libheif()
    {
        var image = Assert.IsType<DecodedImage>(await Decode("image/heic", TestMedia.FixtureBytes("red-64x48.heic")));
        Assert.Equal((64, 48), (image.Width, image.Height));
        Assert.True(image.Rgb[0] > 200 && image.Rgb[1] < 60 && image.Rgb[2] < 60, $"{image.Rgb[0]},{image.Rgb[1]},{image.Rgb[2]}");
        var heif = await Decode("image/heif", TestMedia.FixtureBytes("red-64x48.heic"));
        Assert.Equal(image.ContentHash, heif.ContentHash);
        var bytes = TestMedia.FixtureBytes("red-64x48.heic");
        await Refused("image/heic", bytes[..(bytes.Length * 2 / 3)]);
    }

    [Fact]
    public async Task Wav_is_mixed_to_mono_and_resampled_to_the_projector_rate()
    {
        var tone = TestMedia.Sine(440, 44_100, 0.5);
        var audio = Assert.IsType<DecodedAudio>(await Decode("audio/wav", TestMedia.Wav(tone, 44_100, channels: 2)));
        Assert.Equal((16_000, "audio/wav"), (audio.SampleRate, audio.MimeType));
        Assert.InRange(audio.Samples.Length, 7990, 8000);
        Assert.InRange(TestMedia.Frequency(audio.Samples, 16_000), 430, 450);
        // A band-limited resampler keeps a tone's level (nearest-neighbour or an aliasing filter would not).
        Assert.InRange(audio.Samples[1000..7000].Max(), 0.48f, 0.52f);
    }

    [Fact]
    public async Task Resampling_removes_tones_above_the_new_nyquist_frequency()
    {
        // 6 kHz + 12.5 kHz at 48 kHz: at 16 kHz the 12.5 kHz tone would fold to 3.5 kHz; it must be gone instead.
        var mixed = TestMedia.Sine(6000, 48_000, 0.25, 0.3).Zip(TestMedia.Sine(12_500, 48_000, 0.25, 0.3), (a, b) => a + b).ToArray();
        var audio = Assert.IsType<DecodedAudio>(await Decode("audio/wav", TestMedia.Wav(mixed, 48_000, isFloat: true, bits: 32)));
        var middle = audio.Samples[500..3500];
        Assert.InRange(Goertzel(middle, 16_000, 6000), 0.27, 0.33);
        Assert.InRange(Goertzel(middle, 16_000, 3500), 0, 0.003);
    }

    [Theory]
    [InlineData(8, false, false)]
    [InlineData(16, false, true)]
    [InlineData(24, false, false)]
    [InlineData(32, false, false)]
    [InlineData(32, true, false)]
    [InlineData(32, true, true)]
    public async Task Every_wav_sample_format_decodes_to_the_same_signal(int bits, bool isFloat, bool extensible)
    {
        var tone = TestMedia.Sine(440, 16_000, 0.1);
        var audio = Assert.IsType<DecodedAudio>(await Decode("audio/wav", TestMedia.Wav(tone, 16_000, channels: 3, bits, isFloat, extensible)));
        Assert.Equal(tone.Length, audio.Samples.Length);
        var tolerance = bits == 8 ? 0.01 : 0.0001;
        for (var i = 0; i < tone.Length; i++) Assert.True(Math.Abs(tone[i] - audio.Samples[i]) < tolerance, $"sample {i}: {tone[i]} vs {audio.Samples[i]}");
    }

    [Fact]
    public async Task Aiff_decodes_like_the_same_wav()
    {
        var tone = TestMedia.Sine(440, 22_050, 0.2);
        var aiff = Assert.IsType<DecodedAudio>(await Decode("audio/aiff", TestMedia.Aiff(tone, 22_050, channels: 2)));
        var wav = Assert.IsType<DecodedAudio>(await Decode("audio/wav", TestMedia.Wav(tone, 22_050, channels: 2)));
        Assert.Equal(wav.Samples, aiff.Samples);
        Assert.Equal(wav.ContentHash, aiff.ContentHash);
    }

    [Theory]
    [InlineData("audio/mp3", "tone-440hz.mp3")]
    [InlineData("audio/mpeg", "tone-440hz.mp3")]
    [InlineData("audio/ogg", "tone-440hz.ogg")]
    [InlineData("audio/flac", "tone-440hz.flac")]
    [InlineData("audio/aac", "tone-440hz.aac")]
    [InlineData("audio/ogg", "tone-440hz.opus.ogg")]
    public async Task Compressed_audio_decodes_to_its_tone_at_the_projector_rate(string type, string file)
    {
        var audio = Assert.IsType<DecodedAudio>(await Decode(type, TestMedia.FixtureBytes(file)));
        Assert.Equal(16_000, audio.SampleRate);
        // Half a second, give or take the encoders' priming and padding.
        Assert.InRange(audio.Duration.TotalSeconds, 0.45, 0.62);
        Assert.InRange(TestMedia.Frequency(audio.Samples[800..^800], 16_000), 420, 460);
    }

    [Theory]
    [InlineData("audio/wav")]
    [InlineData("audio/aiff")]
    [InlineData("audio/mp3")]
    [InlineData("audio/ogg")]
    [InlineData("audio/flac")]
    public async Task Audio_longer_than_MaxAudioSeconds_is_refused(string type)
    {
        var data = type switch
        {
            "audio/wav" => TestMedia.Wav(TestMedia.Sine(440, 16_000, 0.5), 16_000),
            "audio/aiff" => TestMedia.Aiff(TestMedia.Sine(440, 16_000, 0.5), 16_000),
            "audio/mp3" => TestMedia.FixtureBytes("tone-440hz.mp3"),
            "audio/ogg" => TestMedia.FixtureBytes("tone-440hz.ogg"),
            _ => TestMedia.FixtureBytes("tone-440hz.flac"),
        };
        var error = await Refused(type, data, new MediaLimits { MaxAudioSeconds = 0.2 });
        Assert.Contains("longer than 0.2 seconds", error.Message);
    }

    [Fact]
    public async Task Truncated_and_corrupt_audio_is_refused_naming_the_part()
    {
        var wav = TestMedia.Wav(TestMedia.Sine(440, 16_000, 0.2), 16_000);
        var error = await Refused("audio/wav", wav[..(wav.Length / 2)]);
        Assert.Contains("truncated", error.Message);
        await Refused("audio/wav", wav[..30]);
        var flac = TestMedia.FixtureBytes("tone-440hz.flac");
        await Refused("audio/flac", [.. flac[..4], .. new byte[200]]);
        var ogg = TestMedia.FixtureBytes("tone-440hz.ogg");
        await Refused("audio/ogg", ogg[..60]);
    }

    /// <summary>
    /// Random bytes, and real files with random damage, labelled as every accepted type: each either decodes or is a
    /// 400 naming the part; nothing else ever escapes (no crash, no other exception type).
    /// </summary>
    [Fact]
    public async Task Random_and_damaged_bytes_of_every_type_only_ever_get_the_400()
    {
        using var bitmap = TestMedia.Quadrants(32, 32);
        var samples = new (string Type, byte[] Bytes)[]
        {
            ("image/png", TestMedia.Encode(bitmap, SKEncodedImageFormat.Png)),
            ("image/jpeg", TestMedia.Encode(bitmap, SKEncodedImageFormat.Jpeg, 80)),
            ("image/webp", TestMedia.Encode(bitmap, SKEncodedImageFormat.Webp, 80)),
            ("image/heic", TestMedia.FixtureBytes("red-64x48.heic")),
            ("audio/wav", TestMedia.Wav(TestMedia.Sine(440, 8000, 0.1), 8000, channels: 2)),
            ("audio/aiff", TestMedia.Aiff(TestMedia.Sine(440, 8000, 0.1), 8000)),
            ("audio/mp3", TestMedia.FixtureBytes("tone-440hz.mp3")),
            ("audio/ogg", TestMedia.FixtureBytes("tone-440hz.ogg")),
            ("audio/flac", TestMedia.FixtureBytes("tone-440hz.flac")),
            ("audio/aac", TestMedia.FixtureBytes("tone-440hz.aac")),
        };
        var random = new Random(14);
        foreach (var (type, original) in samples)
        {
            // FFmpeg starts a process per try: fewer of those.
            var tries = type is "audio/flac" or "audio/aac" ? 2 : 25;
            for (var t = 0; t < tries; t++)
            {
                var bytes = (t % 3) switch
                {
                    0 => RandomBytes(random, random.Next(1, 2000)),
                    1 => Damaged(random, original),
                    _ => original[..random.Next(1, original.Length)],
                };
                try
                {
                    await Decode(type, bytes);
                }
                catch (CastorException error)
                {
                    Assert.Equal(ErrorStatus.InvalidArgument, error.Status);
                    Assert.StartsWith(Part, error.Field!.ToString());
                }
            }
        }
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>The file with a few bytes past its signature overwritten, so the decoder itself meets the damage.</summary>
    private static byte[] Damaged(Random random, byte[] original)
    {
        var bytes = (byte[])original.Clone();
        for (var k = 0; k < 1 + bytes.Length / 200; k++)
            bytes[random.Next(Math.Min(16, bytes.Length - 1), bytes.Length)] = (byte)random.Next(256);
        return bytes;
    }

    /// <summary>The amplitude of one frequency in a signal.</summary>
    private static double Goertzel(float[] samples, int rate, double frequency)
    {
        double re = 0, im = 0;
        for (var i = 0; i < samples.Length; i++)
        {
            re += samples[i] * Math.Cos(2 * Math.PI * frequency * i / rate);
            im += samples[i] * Math.Sin(2 * Math.PI * frequency * i / rate);
        }
        return 2 * Math.Sqrt(re * re + im * im) / samples.Length;
    }
}
