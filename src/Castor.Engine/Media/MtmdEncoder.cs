using System.Runtime.InteropServices;
using LLama.Native;

namespace Castor.Engine.Media;

/// <summary>
/// mtmd's encoder on its own, without its decode: <c>mtmd_encode_chunk</c> runs the projector and
/// <c>mtmd_get_output_embd</c> reads the embeddings, which LLamaSharp 0.30 keeps internal. With them the scheduler
/// decodes an image's embeddings in slices between other streams' steps instead of in one long step. Bound to the
/// library LLamaSharp itself loaded; <see cref="Available"/> is false when the exports are missing (another build),
/// and media then go through mtmd's helper in one step.
/// </summary>
internal static unsafe class MtmdEncoder
{
    private static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int> Encode;
    private static readonly delegate* unmanaged[Cdecl]<IntPtr, float*> OutputEmbeddings;

    static MtmdEncoder()
    {
        try
        {
            var library = NativeLibrary.Load("mtmd", typeof(SafeLLamaContextHandle).Assembly, null);
            if (NativeLibrary.TryGetExport(library, "mtmd_encode_chunk", out var encode)
                && NativeLibrary.TryGetExport(library, "mtmd_get_output_embd", out var output))
            {
                Encode = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int>)encode;
                OutputEmbeddings = (delegate* unmanaged[Cdecl]<IntPtr, float*>)output;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException or ArgumentException)
        {
        }
    }

    public static bool Available => Encode != null && OutputEmbeddings != null;

    /// <summary>
    /// Encodes <paramref name="chunk"/> (an image or audio chunk of <paramref name="tokens"/> tokens) and copies its
    /// embeddings, <paramref name="width"/> floats each; null when mtmd fails. The context's output buffer is reused
    /// by the next encode, hence the copy.
    /// </summary>
    public static float[]? Run(SafeMtmdModelHandle encoder, SafeMtmdInputChunk chunk, int tokens, int width)
    {
        var added = false;
        try
        {
            encoder.DangerousAddRef(ref added);
            var context = encoder.DangerousGetHandle();
            if (Encode(context, chunk.NativePtr) != 0) return null;
            var output = OutputEmbeddings(context);
            if (output == null) return null;
            var embeddings = new float[tokens * width];
            new ReadOnlySpan<float>(output, embeddings.Length).CopyTo(embeddings);
            return embeddings;
        }
        finally
        {
            if (added) encoder.DangerousRelease();
        }
    }
}
