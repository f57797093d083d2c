using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LLama.Native;

namespace Castor.Engine.Scheduling;

/// <summary>
/// Stops a decode step that holds only batch work when interactive work arrives, so an interactive request waits for
/// no batch step at all instead of up to one whole one. llama.cpp asks the context's abort callback between graph
/// nodes (ggml's CPU backend, on the decoding thread); on <c>true</c> <c>llama_decode</c> returns 2
/// (<see cref="DecodeResult.ComputeAborted"/>) and removes the aborted ubatch's positions from the memory. The
/// scheduler then drops the step's positions itself too (a batch larger than one ubatch keeps the earlier ones) and
/// plans again: nothing was committed or sampled, so the batch sequences redo the same tokens in a later step.
/// <para>
/// One word holds the state: 0 idle, 1 armed (a batch-only step is decoding), 2 abort. Only an armed step can be
/// aborted, so a request that arrives late cannot stop the next step, which may hold interactive work.
/// </para>
/// </summary>
internal sealed unsafe class StepAbort
{
    private const int Idle = 0, Armed = 1, Aborting = 2;
    private readonly int[] _state = GC.AllocateArray<int>(1, pinned: true);

    /// <summary>Installs the callback on <paramref name="context"/>; false when the library has no such entry point.</summary>
    public bool Install(SafeLLamaContextHandle context)
    {
        if (SetAbortCallback == null) return false;
        var added = false;
        try
        {
            context.DangerousAddRef(ref added);
            SetAbortCallback(context.DangerousGetHandle(), &ShouldAbort, (IntPtr)Unsafe.AsPointer(ref _state[0]));
            return true;
        }
        finally
        {
            if (added) context.DangerousRelease();
        }
    }

    /// <summary>The step about to decode holds only batch work: interactive work arriving now may stop it.</summary>
    public void Arm() => Interlocked.Exchange(ref _state[0], Armed);

    /// <summary>The step ended (decoded or aborted); returns true when it was asked to stop.</summary>
    public bool Disarm() => Interlocked.Exchange(ref _state[0], Idle) == Aborting;

    /// <summary>Interactive work was queued (any thread): stop the step now decoding if it holds only batch work.</summary>
    public void Request() => Interlocked.CompareExchange(ref _state[0], Aborting, Armed);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static byte ShouldAbort(IntPtr state) => Volatile.Read(ref *(int*)state) == Aborting ? (byte)1 : (byte)0;

    private static readonly delegate* unmanaged[Cdecl]<IntPtr, delegate* unmanaged[Cdecl]<IntPtr, byte>, IntPtr, void> SetAbortCallback = Find();

    private static delegate* unmanaged[Cdecl]<IntPtr, delegate* unmanaged[Cdecl]<IntPtr, byte>, IntPtr, void> Find()
    {
        try
        {
            // Loaded through LLamaSharp's own resolver, so this is the library it already uses.
            var library = NativeLibrary.Load("llama", typeof(SafeLLamaContextHandle).Assembly, null);
            return NativeLibrary.TryGetExport(library, "llama_set_abort_callback", out var set)
                ? (delegate* unmanaged[Cdecl]<IntPtr, delegate* unmanaged[Cdecl]<IntPtr, byte>, IntPtr, void>)set
                : null;
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException or ArgumentException)
        {
            return null;
        }
    }
}
