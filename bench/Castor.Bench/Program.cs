using Castor.Engine.Models;
using Microsoft.Extensions.Logging;

namespace Castor.Bench;

public static class Program
{
    /// <summary>Where llama.cpp's own log goes while no server owns it: errors only, to stderr.</summary>
    public static readonly ILogger NativeLogger = new StderrLogger(LogLevel.Error);

    public static async Task<int> Main(string[] args)
    {
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (BenchException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        if (options.Help)
        {
            Console.WriteLine(BenchOptions.Usage);
            return 0;
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        // Must happen before llama.cpp loads (and it may happen only once): Castor's servers re-target it later.
        NativeLogging.RouteTo(NativeLogger);

        try
        {
            return await new Bench(options, BenchFolder()).RunAsync(cancel.Token);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Console.Error.WriteLine("Cancelled.");
            return 130;
        }
        catch (Exception e) when (e is BenchException or InvalidDataException or FileNotFoundException or HttpRequestException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 1;
        }
    }

    /// <summary>The bench folder of the repository (beside Castor.slnx), found from the working directory or the executable.</summary>
    private static string BenchFolder()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Castor.slnx")))
                    return Path.Combine(dir.FullName, "bench");
        }
        return Path.Combine(Directory.GetCurrentDirectory(), "bench");
    }

    private sealed class StderrLogger(LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) Console.Error.WriteLine($"llama.cpp: {formatter(state, exception)}");
        }
    }
}
