using System.Globalization;

namespace Castor.Bench;

/// <summary>
/// CPU time of this process's threads in two groups, from Linux's per-thread scheduler statistics
/// (<c>/proc/self/task/*/schedstat</c>, nanoseconds): the runtime's threads (named <c>.NET …</c> and <c>Kestrel …</c>
/// by .NET: the thread pool running the adapters and the stream writer, socket I/O, GC, tiered JIT) and the rest, which
/// is the engine: each model's scheduler thread and llama.cpp's workers (native threads that carry whatever name
/// their creator had). Measured while this process's own code is idle (a client in another process), the first group
/// is what the server's plumbing costs. Threads that end between two snapshots lose their time; the pool's threads
/// live for the whole run.
/// </summary>
public readonly record struct ThreadCpu(long EngineNanoseconds, long OtherNanoseconds)
{
    public static ThreadCpu Now()
    {
        long engine = 0, other = 0;
        try
        {
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(task, "schedstat"));
                    var space = stat.IndexOf(' ', StringComparison.Ordinal);
                    var ns = long.Parse(space < 0 ? stat : stat[..space], NumberStyles.None, CultureInfo.InvariantCulture);
                    var comm = File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n');
                    if (comm.StartsWith(".NET", StringComparison.Ordinal) || comm.StartsWith("Kestrel", StringComparison.Ordinal)) other += ns;
                    else engine += ns;
                }
                catch (IOException)
                {
                    // The thread ended while we looked.
                }
            }
        }
        catch (IOException)
        {
        }
        return new ThreadCpu(engine, other);
    }

    public static ThreadCpu operator -(ThreadCpu a, ThreadCpu b) => new(a.EngineNanoseconds - b.EngineNanoseconds, a.OtherNanoseconds - b.OtherNanoseconds);
}
