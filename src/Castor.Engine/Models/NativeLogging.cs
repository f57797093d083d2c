using LLama.Native;
using Microsoft.Extensions.Logging;

namespace Castor.Engine.Models;

/// <summary>Routes llama.cpp's own log into <see cref="ILogger"/>. It must be set before the native library loads, and only once per process.</summary>
public static class NativeLogging
{
    private static int _configured;
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
        NativeLibraryConfig.All.WithLogCallback((level, message) =>
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
        });
    }
}
