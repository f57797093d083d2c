using System.Collections.Concurrent;
using Castor.Hub;

namespace Castor.IntegrationTests.Hub;

/// <summary>Keeps what a pull reported, in order, and lets a test wait for a note.</summary>
public sealed class RecordingProgress : IPullProgress
{
    public ConcurrentQueue<string> Events { get; } = new();
    public TaskCompletionSource Waiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Planned(string id, ModelSource source, PullPlan plan) => Events.Enqueue($"planned {id}: {string.Join(",", plan.All.Select(f => f.Path))}");
    public void FileStarted(HubFile file, long bytesPresent) => Events.Enqueue($"started {file.Name} at {bytesPresent}");
    public void Advanced(HubFile file, long bytesDone) { }
    public void FileCompleted(HubFile file, bool downloaded) => Events.Enqueue($"completed {file.Name} {(downloaded ? "downloaded" : "present")}");

    public void Note(string message)
    {
        Events.Enqueue("note " + message);
        if (message.Contains("waiting", StringComparison.OrdinalIgnoreCase)) Waiting.TrySetResult();
    }
}
