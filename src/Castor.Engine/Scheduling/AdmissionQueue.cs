using System.Collections.Concurrent;

namespace Castor.Engine.Scheduling;

/// <summary>
/// Work waiting for the scheduler thread: one FIFO per <see cref="EnginePriority"/>, the interactive one always
/// first. The head stays queued until it starts, so a request waiting for free sequences keeps its place and
/// nothing of its own priority overtakes it. Any thread enqueues; only the scheduler thread peeks and dequeues.
/// </summary>
internal sealed class AdmissionQueue
{
    private readonly ConcurrentQueue<WorkItem>[] _byPriority;

    public AdmissionQueue()
    {
        var priorities = Enum.GetValues<EnginePriority>();
        _byPriority = new ConcurrentQueue<WorkItem>[priorities.Length];
        for (var i = 0; i < _byPriority.Length; i++) _byPriority[i] = new ConcurrentQueue<WorkItem>();
    }

    public void Enqueue(WorkItem item) => _byPriority[(int)item.Priority].Enqueue(item);

    public bool IsEmpty
    {
        get
        {
            foreach (var queue in _byPriority)
                if (!queue.IsEmpty) return false;
            return true;
        }
    }

    /// <summary>Whether any item of <paramref name="priority"/> waits.</summary>
    public bool Any(EnginePriority priority) => !_byPriority[(int)priority].IsEmpty;

    /// <summary>The next item to start: the oldest of the most urgent priority that has any.</summary>
    public WorkItem? Peek()
    {
        foreach (var queue in _byPriority)
            if (queue.TryPeek(out var item)) return item;
        return null;
    }

    /// <summary>Removes <paramref name="head"/>, which <see cref="Peek"/> returned.</summary>
    public void Remove(WorkItem head)
    {
        if (!_byPriority[(int)head.Priority].TryDequeue(out var removed) || !ReferenceEquals(removed, head))
            throw new InvalidOperationException("Only the scheduler thread dequeues, and only the head it peeked.");
    }

    public bool TryDequeue(out WorkItem? item)
    {
        foreach (var queue in _byPriority)
            if (queue.TryDequeue(out item)) return true;
        item = null;
        return false;
    }
}
