using System.Diagnostics;
using Castor.Hub;

namespace Castor.Cli.Pulling;

/// <summary>
/// Progress as plain lines, for logs and pipes (stdout is not a terminal): one line when a file starts, one every
/// <see cref="Interval"/> while it downloads (bytes, rate, time left), one when it is in place.
/// </summary>
internal sealed class PlainPullProgress(TextWriter output) : IPullProgress
{
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long Start, Stopwatch Clock, TimeSpan LastLine)> _files = new(StringComparer.Ordinal);

    public void Planned(string id, ModelSource source, PullPlan plan)
    {
        lock (_gate)
            output.WriteLine($"Pulling {id} from {source} ({plan.All.Count()} file(s), {ModelPuller.FormatBytes(plan.TotalBytes)}) …");
    }

    public void FileStarted(HubFile file, long bytesPresent)
    {
        lock (_gate)
        {
            _files[file.Path] = (bytesPresent, Stopwatch.StartNew(), TimeSpan.Zero);
            if (bytesPresent > 0 && bytesPresent < file.Size)
                output.WriteLine($"  {file.Name}: resuming at {ModelPuller.FormatBytes(bytesPresent)} of {ModelPuller.FormatBytes(file.Size)}");
            else if (bytesPresent == 0)
                output.WriteLine($"  {file.Name}: {ModelPuller.FormatBytes(file.Size)}");
        }
    }

    public void Advanced(HubFile file, long bytesDone)
    {
        lock (_gate)
        {
            if (!_files.TryGetValue(file.Path, out var state)) return;
            var elapsed = state.Clock.Elapsed;
            if (elapsed - state.LastLine < Interval) return;
            _files[file.Path] = state with { LastLine = elapsed };
            output.WriteLine($"  {file.Name}: {Describe(file.Size, bytesDone, state.Start, elapsed)}");
        }
    }

    public void FileCompleted(HubFile file, bool downloaded)
    {
        lock (_gate)
            output.WriteLine($"  {file.Name}: {(downloaded ? "downloaded and verified" : "already here")} ({ModelPuller.FormatBytes(file.Size)})");
    }

    public void Note(string message)
    {
        lock (_gate) output.WriteLine("  " + message);
    }

    /// <summary>"412.0 MiB of 806.0 MiB (51%), 23.4 MiB/s, 17 s left".</summary>
    internal static string Describe(long size, long done, long start, TimeSpan elapsed)
    {
        var rate = elapsed.TotalSeconds > 0 ? (done - start) / elapsed.TotalSeconds : 0;
        var left = rate > 0 ? TimeSpan.FromSeconds((size - done) / rate) : (TimeSpan?)null;
        var percent = size > 0 ? done * 100 / size : 100;
        return $"{ModelPuller.FormatBytes(done)} of {ModelPuller.FormatBytes(size)} ({percent}%), {ModelPuller.FormatBytes((long)rate)}/s" +
               (left is { } l ? $", {(l.TotalHours >= 1 ? $"{(int)l.TotalHours} h {l.Minutes} min" : l.TotalMinutes >= 1 ? $"{(int)l.TotalMinutes} min {l.Seconds} s" : $"{l.Seconds} s")} left" : "");
    }
}
