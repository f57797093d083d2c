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
    /// <summary>
    /// The value for LLamaSharp's <c>FlashAttention</c> (null: llama.cpp's auto). Unset on the CPU it is off: measured on
    /// the CPU backend, llama.cpp's auto (which enables it) made a 9 K-token prefill of the test model 3.5× slower than off,
    /// and the bench model's prefill slower too (bench/README.md, "Long prompts"). With layers on a GPU llama.cpp's auto
    /// decides, as llama-server does, since its flash kernels are the fast path there.
    /// </summary>
    public static bool? Resolve(FlashAttentionMode? mode, int gpuLayers) => mode switch
    {
        FlashAttentionMode.On => true,
        FlashAttentionMode.Off => false,
        FlashAttentionMode.Auto => null,
        _ => gpuLayers > 0 ? null : false,
    };

    public static string Describe(bool? resolved) => resolved switch
    {
        true => "on",
        false => "off",
        null => "auto",
    };
}
