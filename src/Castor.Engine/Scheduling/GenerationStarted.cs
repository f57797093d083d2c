namespace Castor.Engine.Scheduling;

/// <summary>
/// The request left the queue: its candidates have sequences and its prompt is about to be computed. Sent once, first,
/// so the application can tell time spent waiting from time spent on the prompt (its queueing span).
/// </summary>
public sealed record GenerationStarted : EngineEvent
{
    /// <summary>The one instance: the event carries nothing but its arrival.</summary>
    public static readonly GenerationStarted Instance = new();

    private GenerationStarted()
    {
    }
}
