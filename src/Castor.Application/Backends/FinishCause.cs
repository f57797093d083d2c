namespace Castor.Application.Backends;

/// <summary>Why the backend stopped a candidate; the generation rules turn it into the API's finish reason.</summary>
public enum FinishCause
{
    /// <summary>The model produced an end-of-generation token.</summary>
    EndOfText,
    StopSequence,
    MaxOutputTokens,
    /// <summary>The sequence reached the end of its context window.</summary>
    ContextFull,
}
