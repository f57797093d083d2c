using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LLama.Native;

namespace Castor.Engine.Scheduling;

/// <summary>
/// A decode batch whose arrays live on the pinned object heap and are handed to <c>llama_decode</c> as they are.
/// LLamaSharp's <c>LLamaBatch</c> pins every per-token sequence-id array of its capacity for each decode (512 GC handles
/// and ~12 KB of garbage a step once a prompt chunk has grown it), which is most of what a decode step cost on the
/// managed side; here a step costs nothing. One sequence per token, which is all the scheduler uses.
/// </summary>
internal sealed unsafe class DecodeBatch
{
    private static readonly object InferenceLock = FindInferenceLock();
    private static readonly delegate* unmanaged[Cdecl]<IntPtr, LLamaNativeBatch, int> Decode = FindDecode();

    private readonly LLamaToken[] _tokens;
    private readonly LLamaPos[] _positions;
    private readonly int[] _sequenceCounts;
    private readonly LLamaSeqId[] _sequences;
    private readonly IntPtr[] _sequencePointers;
    private readonly byte[] _logits;
    private readonly LLamaBatch? _fallback;

    public DecodeBatch(int capacity)
    {
        Capacity = capacity;
        _tokens = GC.AllocateArray<LLamaToken>(capacity, pinned: true);
        _positions = GC.AllocateArray<LLamaPos>(capacity, pinned: true);
        _sequenceCounts = GC.AllocateArray<int>(capacity, pinned: true);
        _sequences = GC.AllocateArray<LLamaSeqId>(capacity, pinned: true);
        _sequencePointers = GC.AllocateArray<IntPtr>(capacity, pinned: true);
        _logits = GC.AllocateArray<byte>(capacity, pinned: true);
        for (var i = 0; i < capacity; i++)
        {
            _sequenceCounts[i] = 1;
            _sequencePointers[i] = (IntPtr)Unsafe.AsPointer(ref _sequences[i]);
        }
        // Without the native entry point (an unexpected LLamaSharp build) decoding still works, through LLamaBatch.
        if (Decode == null) _fallback = new LLamaBatch();
    }

    public int Capacity { get; }
    public int TokenCount { get; private set; }

    public void Clear() => TokenCount = 0;

    public void Add(LLamaToken token, int position, LLamaSeqId sequence, bool logits)
    {
        if (TokenCount == Capacity) throw new InvalidOperationException("The decode batch is full.");
        _tokens[TokenCount] = token;
        _positions[TokenCount] = position;
        _sequences[TokenCount] = sequence;
        _logits[TokenCount] = logits ? (byte)1 : (byte)0;
        TokenCount++;
    }

    public DecodeResult DecodeWith(SafeLLamaContextHandle context)
    {
        if (TokenCount == 0) return DecodeResult.Ok;
        if (_fallback is not null)
        {
            _fallback.Clear();
            for (var i = 0; i < TokenCount; i++) _fallback.Add(_tokens[i], _positions[i], _sequences[i], _logits[i] != 0);
            return context.Decode(_fallback);
        }
        var native = new LLamaNativeBatch
        {
            n_tokens = TokenCount,
            tokens = (LLamaToken*)Unsafe.AsPointer(ref _tokens[0]),
            embd = null,
            pos = (LLamaPos*)Unsafe.AsPointer(ref _positions[0]),
            n_seq_id = (int*)Unsafe.AsPointer(ref _sequenceCounts[0]),
            seq_id = (LLamaSeqId**)Unsafe.AsPointer(ref _sequencePointers[0]),
            logits = (byte*)Unsafe.AsPointer(ref _logits[0]),
        };
        var added = false;
        try
        {
            context.DangerousAddRef(ref added);
            // The lock LLamaSharp holds around every llama_decode (llama.cpp issue 3960): decodes stay serialised with
            // the other contexts LLamaSharp drives (embedding models) exactly as through SafeLLamaContextHandle.Decode.
            lock (InferenceLock)
                return (DecodeResult)Decode(context.DangerousGetHandle(), native);
        }
        finally
        {
            if (added) context.DangerousRelease();
        }
    }

    private static object FindInferenceLock() =>
        typeof(SafeLLamaContextHandle).GetField("GlobalInferenceLock", BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null)
        ?? new object();

    private static delegate* unmanaged[Cdecl]<IntPtr, LLamaNativeBatch, int> FindDecode()
    {
        try
        {
            // Loaded through LLamaSharp's own resolver, so this is the library it already uses.
            var library = NativeLibrary.Load("llama", typeof(SafeLLamaContextHandle).Assembly, null);
            return NativeLibrary.TryGetExport(library, "llama_decode", out var decode)
                ? (delegate* unmanaged[Cdecl]<IntPtr, LLamaNativeBatch, int>)decode
                : null;
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException or ArgumentException)
        {
            return null;
        }
    }
}
