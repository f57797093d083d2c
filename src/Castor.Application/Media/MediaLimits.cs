namespace Castor.Application.Media;

/// <summary>
/// Bounds on decoding images and audio (the <c>Media</c> section: Media:MaxImagePixels, CASTOR_MEDIA__MAX_IMAGE_PIXELS, …).
/// Each bound is checked before the memory it protects is allocated: an image's size is read from its header, audio
/// stops decoding one sample past its limit.
/// </summary>
public sealed class MediaLimits
{
    /// <summary>
    /// Images whose header claims more pixels than this are refused without decoding (a 100-byte PNG can claim
    /// 65,535 × 65,535). 64 MP takes the largest phone and camera photos the API accepts.
    /// </summary>
    public long MaxImageInputPixels { get; set; } = 8192L * 8192;

    /// <summary>
    /// Pixels one image may decode to before it is scaled down (4 bytes each while decoding). JPEG and WebP decode
    /// straight to a smaller size, so only a PNG or HEIC larger than this is refused.
    /// </summary>
    public long MaxImageDecodePixels { get; set; } = 4096L * 4096;

    /// <summary>
    /// Images larger than this are scaled down (aspect kept) before the engine sees them: projectors resize to at most a
    /// few megapixels themselves (Gemma 3: 896², Qwen2.5-VL: about 3.2 MP), so larger images only cost memory.
    /// </summary>
    public long MaxImagePixels { get; set; } = 2048L * 2048;

    /// <summary>
    /// Seconds of audio one part may hold. The API takes up to 9.5 hours a prompt, but at 32 tokens a second (Gemini) or
    /// 25 (Whisper-based projectors) ten minutes already fill a 16 K context.
    /// </summary>
    public double MaxAudioSeconds { get; set; } = 600;

    /// <summary>Image and audio parts one request may hold: the API's 3,600 images a request.</summary>
    public int MaxPartsPerRequest { get; set; } = 3600;

    /// <summary>
    /// Bytes all of one request's decoded media may take together (RGB pixels, float samples): 3,600 images at the
    /// per-image bound would be 45 GB, so the request is refused once its decoded media pass this.
    /// </summary>
    public long MaxDecodedBytesPerRequest { get; set; } = 512L * 1024 * 1024;

    /// <summary>Bytes one <c>inlineData</c> part may hold once its base64 is decoded: the API's 20 MB inline request limit.</summary>
    public long MaxInlineBytes { get; set; } = 20L * 1000 * 1000;

    /// <summary>
    /// Bytes one media file (an upload used through <c>fileData</c>) may have to be decoded for a prompt: uploads may be
    /// 2 GB, but an image or a clip within the limits above is far smaller.
    /// </summary>
    public long MaxFileBytes { get; set; } = 200L * 1000 * 1000;

    /// <summary>
    /// The FFmpeg executable that decodes FLAC and AAC (and Ogg files that are not Vorbis), run as a child process per
    /// clip; empty turns those types off (a 400 that says so).
    /// </summary>
    public string FfmpegPath { get; set; } = "ffmpeg";

    /// <summary>How long one FFmpeg decode may run before it is killed and the part refused.</summary>
    public TimeSpan FfmpegTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
