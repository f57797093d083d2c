namespace Castor.Engine.Models;

/// <summary>
/// llama.cpp's flash attention setting: <see cref="Auto"/> lets llama.cpp decide (it turns it on wherever the backend
/// supports it), <see cref="On"/> and <see cref="Off"/> force it. Unset, Castor decides: see <see cref="FlashAttention.Resolve"/>.
/// </summary>
public enum FlashAttentionMode
{
    Auto,
    On,
    Off,
}

public static class FlashAttention
{
    /// <summary>Head size from which an unset setting turns flash attention on (llama.cpp's auto) on the CPU.</summary>
    public const int CpuHeadSizeThreshold = 64;

    /// <summary>
    /// The value for LLamaSharp's <c>FlashAttention</c> (null: llama.cpp's auto). Unset on the CPU it depends on the
    /// model's attention head size, as measured with bench section (e) on a quiet machine (bench/README.md, "Long
    /// prompts"): the test model (head size 8) prefills 2.7–3.5× slower with flash attention, the ~100 M bench model
    /// (head size 64, as real models have: 64–256) 1.38× faster. So below <see cref="CpuHeadSizeThreshold"/> it is off,
    /// from there llama.cpp's auto decides; an unknown head size (0) keeps it off. With layers on a GPU llama.cpp's auto
    /// decides, as llama-server does, since its flash kernels are the fast path there.
    /// </summary>
    public static bool? Resolve(FlashAttentionMode? mode, int gpuLayers, int headSize = 0) => mode switch
    {
        FlashAttentionMode.On => true,
        FlashAttentionMode.Off => false,
        FlashAttentionMode.Auto => null,
        _ when gpuLayers > 0 => null,
        _ => headSize >= CpuHeadSizeThreshold ? null : false,
    };

    /// <summary>
    /// The attention head size from GGUF metadata: <c>{arch}.attention.key_length</c> when the model states it, else
    /// embedding length ÷ head count; 0 when neither is there.
    /// </summary>
    public static int HeadSize(IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue("general.architecture", out var arch)) return 0;
        if (metadata.TryGetValue($"{arch}.attention.key_length", out var key) && int.TryParse(key, out var keyLength) && keyLength > 0)
            return keyLength;
        return metadata.TryGetValue($"{arch}.embedding_length", out var e) && int.TryParse(e, out var embedding) &&
               metadata.TryGetValue($"{arch}.attention.head_count", out var h) && int.TryParse(h, out var heads) && heads > 0
            ? embedding / heads
            : 0;
    }

    public static string Describe(bool? resolved) => resolved switch
    {
        true => "on",
        false => "off",
        null => "auto",
    };
}
