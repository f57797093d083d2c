namespace Castor.Application.Backends;

/// <summary>The request left the backend's queue and its prompt is being computed (sent once, before <see cref="PromptEvaluated"/>).</summary>
public sealed record GenerationAdmitted : BackendEvent
{
    /// <summary>The one instance: the event carries nothing but its arrival.</summary>
    public static readonly GenerationAdmitted Instance = new();

    private GenerationAdmitted()
    {
    }
}
