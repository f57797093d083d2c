using Castor.Hub;
using Spectre.Console;

namespace Castor.Cli.Pulling;

/// <summary>A live bar per file on a terminal (Spectre.Console): bytes, rate and time left, redrawn in place.</summary>
internal sealed class LivePullProgress(ProgressContext context, IAnsiConsole console) : IPullProgress
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ProgressTask> _tasks = new(StringComparer.Ordinal);

    /// <summary>Runs a pull with live bars; the bars stay on screen after it, as a record of what was fetched.</summary>
    public static Task<T> RunAsync<T>(IAnsiConsole console, Func<IPullProgress, Task<T>> pull) =>
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(context => pull(new LivePullProgress(context, console)));

    public void Planned(string id, ModelSource source, PullPlan plan)
    {
        console.MarkupLineInterpolated($"Pulling [bold]{id}[/] from {source.ToString()} ({ModelPuller.FormatBytes(plan.TotalBytes)})");
        lock (_gate)
            foreach (var file in plan.All)
                _tasks[file.Path] = context.AddTask(Markup.Escape(file.Name), autoStart: false, maxValue: Math.Max(1, file.Size));
    }

    public void FileStarted(HubFile file, long bytesPresent)
    {
        var task = Task(file);
        if (task is null) return;
        task.StartTask();
        task.Value = bytesPresent;
    }

    public void Advanced(HubFile file, long bytesDone)
    {
        if (Task(file) is { } task) task.Value = bytesDone;
    }

    public void FileCompleted(HubFile file, bool downloaded)
    {
        if (Task(file) is not { } task) return;
        if (!downloaded) task.Description = Markup.Escape(file.Name) + " [grey](already here)[/]";
        task.Value = task.MaxValue;
        task.StopTask();
    }

    public void Note(string message) => console.MarkupLineInterpolated($"[grey]{message}[/]");

    private ProgressTask? Task(HubFile file)
    {
        lock (_gate) return _tasks.GetValueOrDefault(file.Path);
    }
}
