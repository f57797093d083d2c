using Castor.Engine.Scheduling;

namespace Castor.UnitTests.Engine;

public sealed class AdmissionQueueTests
{
    private sealed class Item(string name, EnginePriority priority) : WorkItem(priority)
    {
        public string Name { get; } = name;
        public override bool IsCancelled => false;
        public override bool TryStart(SequenceScheduler scheduler) => true;
        public override void Abandon() { }
    }

    private static List<string> Drain(AdmissionQueue queue)
    {
        var order = new List<string>();
        while (queue.Peek() is Item head)
        {
            queue.Remove(head);
            order.Add(head.Name);
        }
        return order;
    }

    [Fact]
    public void Interactive_work_starts_before_batch_work_and_each_priority_keeps_arrival_order()
    {
        var queue = new AdmissionQueue();
        queue.Enqueue(new Item("b1", EnginePriority.Batch));
        queue.Enqueue(new Item("i1", EnginePriority.Interactive));
        queue.Enqueue(new Item("b2", EnginePriority.Batch));
        queue.Enqueue(new Item("i2", EnginePriority.Interactive));

        Assert.Equal(["i1", "i2", "b1", "b2"], Drain(queue));
        Assert.True(queue.IsEmpty);
    }

    [Fact]
    public void The_head_keeps_its_place_until_it_is_removed()
    {
        var queue = new AdmissionQueue();
        var first = new Item("b1", EnginePriority.Batch);
        queue.Enqueue(first);
        queue.Enqueue(new Item("b2", EnginePriority.Batch));
        Assert.Same(first, queue.Peek());
        Assert.Same(first, queue.Peek());
        // Something more urgent arriving while the head waits goes before it.
        queue.Enqueue(new Item("i1", EnginePriority.Interactive));
        Assert.Equal("i1", ((Item)queue.Peek()!).Name);
    }

    [Fact]
    public void Removing_anything_but_the_head_is_refused()
    {
        var queue = new AdmissionQueue();
        queue.Enqueue(new Item("i1", EnginePriority.Interactive));
        Assert.Throws<InvalidOperationException>(() => queue.Remove(new Item("x", EnginePriority.Interactive)));
    }
}
