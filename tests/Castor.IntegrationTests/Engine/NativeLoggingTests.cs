using System.Collections.Concurrent;
using Castor.Engine.Models;
using Castor.IntegrationTests.Files;
using Castor.IntegrationTests.Media;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Castor.IntegrationTests.Engine;

/// <summary>
/// mtmd (clip) logs while it loads a projector; those lines must reach the routed logger, as llama.cpp's do, rather
/// than mtmd's default console output. Runs alone: the native log has one process-wide target.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class NativeLoggingTests
{
    [Fact]
    public void A_projectors_load_log_reaches_the_routed_logger()
    {
        var log = new ListLogger();
        NativeLogging.RouteTo(log);
        try
        {
            using var model = LlamaModel.Load(
                new ModelSpec("stories-log", TestModels.Stories260K, Projector: TestMedia.Projector("mlp")),
                new EngineOptions { Threads = 1, Parallel = 1, ContextSize = 256, MaxQueue = 1 },
                NullLogger.Instance);
            Assert.NotNull(model.Projector);
        }
        finally
        {
            NativeLogging.RouteTo(NullLogger.Instance);
        }
        Assert.Contains(log.Lines, line => line.Contains("clip", StringComparison.OrdinalIgnoreCase));
    }

    private sealed class ListLogger : ILogger
    {
        public ConcurrentQueue<string> Lines { get; } = new();
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue(formatter(state, exception));
    }
}
