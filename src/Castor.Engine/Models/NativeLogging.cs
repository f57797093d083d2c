using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LLama.Native;
using Microsoft.Extensions.Logging;

namespace Castor.Engine.Models;

/// <summary>
/// Routes llama.cpp's own log into <see cref="ILogger"/>. It must be set before the native library loads, and only
/// once per process. mtmd (the projector library) keeps a logger of its own that LLamaSharp 0.30 does not bind;
/// <see cref="RouteMtmd"/> points it at the same place.
/// </summary>
public static class NativeLogging
{
    private static int _configured;
    private static int _mtmdConfigured;
    private static ILogger? _logger;

    public static void RouteTo(ILogger logger)
    {
        _logger = logger;
        if (Interlocked.Exchange(ref _configured, 1) == 1) return;
        if (NativeLibraryConfig.LLama.LibraryHasLoaded)
        {
            // Something in this process loaded llama.cpp first (a test, an embedding host); its log stays where it was.
            logger.LogDebug("llama.cpp was loaded before its log could be routed");
            return;
        }
        NativeLibraryConfig.All.WithLogCallback((level, message) => Write(level, message));
    }

    /// <summary>
    /// Sends mtmd's and its helpers' log (clip's model loading, image encoding) through the logger that llama.cpp's log
    /// takes, instead of mtmd's default, which prints to the console. Call it once libmtmd is loaded and before the first
    /// projector loads; it does nothing when no logger was routed (mtmd's default then stays) or when libmtmd can't be found.
    /// </summary>
    public static unsafe void RouteMtmd()
    {
        if (_logger is null || Interlocked.Exchange(ref _mtmdConfigured, 1) == 1) return;
        // LLamaSharp loads libmtmd by its full path; its soname finds that loaded copy without loading a second one.
        if (!NativeLibrary.TryLoad("libmtmd.so", out var library)) return;
        delegate* unmanaged[Cdecl]<int, byte*, nint, void> callback = &OnMtmdLog;
        if (NativeLibrary.TryGetExport(library, "mtmd_log_set", out var set))
            ((delegate* unmanaged[Cdecl]<delegate* unmanaged[Cdecl]<int, byte*, nint, void>, nint, void>)set)(callback, 0);
        if (NativeLibrary.TryGetExport(library, "mtmd_helper_log_set", out var helperSet))
            ((delegate* unmanaged[Cdecl]<delegate* unmanaged[Cdecl]<int, byte*, nint, void>, nint, void>)helperSet)(callback, 0);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe void OnMtmdLog(int level, byte* text, nint userData)
    {
        // An exception must not unwind into native code.
        try
        {
            if (text is not null) Write((LLamaLogLevel)level, Marshal.PtrToStringUTF8((nint)text) ?? "");
        }
        catch (Exception)
        {
        }
    }

    private static void Write(LLamaLogLevel level, string message)
    {
        var target = _logger;
        if (target is null || level == LLamaLogLevel.Continue) return;
        message = message.TrimEnd();
        if (message.Length == 0 || message == ".") return;
        // llama.cpp is chatty at Info; keep its warnings visible and everything else at Debug.
        var mapped = level switch
        {
            LLamaLogLevel.Error => LogLevel.Error,
            LLamaLogLevel.Warning => LogLevel.Debug,
            _ => LogLevel.Trace,
        };
        target.Log(mapped, "{Native}", message);
    }
}
