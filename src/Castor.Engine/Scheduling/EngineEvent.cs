namespace Castor.Engine.Scheduling;

/// <summary>Events a running sequence streams back to whoever submitted it.</summary>
public abstract record EngineEvent;

/// <summary>Newly generated text (one token's worth, or less while a UTF-8 character is incomplete).</summary>
public sealed record TextGenerated(string Text) : EngineEvent;

/// <summary>The sequence ended; counts are final.</summary>
public sealed record GenerationFinished(FinishCause Cause, int PromptTokens, int OutputTokens) : EngineEvent;

/// <summary>The engine could not continue this sequence (llama.cpp refused a batch).</summary>
public sealed record GenerationFailed(string Message) : EngineEvent;

public enum FinishCause
{
    /// <summary>The model produced an end-of-generation token (or a BOS, which starts a new document).</summary>
    EndOfText,
    StopSequence,
    MaxOutputTokens,
    /// <summary>The sequence reached the end of its context window.</summary>
    ContextFull,
}
