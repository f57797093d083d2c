namespace Castor.Engine.Scheduling;

/// <summary>Events a running request streams back to whoever submitted it.</summary>
public abstract record EngineEvent;

/// <summary>Newly generated text of one candidate (one token's worth, or less while a UTF-8 character is incomplete).</summary>
public sealed record TextGenerated(int Candidate, string Text) : EngineEvent;

/// <summary>
/// Log probabilities of one answer token (sent before its text, when the request asked for them): the chosen token and
/// the <see cref="EngineRequest.TopLogprobs"/> most likely ones. Thought tokens and forced tokens have none.
/// </summary>
public sealed record TokenLogprobsComputed(int Candidate, Sampling.TokenLogprob Chosen, IReadOnlyList<Sampling.TokenLogprob> Top) : EngineEvent;

/// <summary>The prompt has been processed; <see cref="ReusedTokens"/> of it came from KV already resident (an implicit cache hit).</summary>
public sealed record PromptProcessed(int PromptTokens, int ReusedTokens) : EngineEvent;

/// <summary>One candidate ended; counts are final. The reader completes after every candidate has finished.</summary>
public sealed record GenerationFinished(int Candidate, FinishCause Cause, int OutputTokens, int ThoughtTokens = 0) : EngineEvent;

/// <summary>
/// The engine could not continue this request (llama.cpp refused a batch, or the server is stopping).
/// <see cref="ByRequest"/>: the request itself is at fault (its grammar was too costly to enforce), not the server.
/// </summary>
public sealed record GenerationFailed(string Message, bool ByRequest = false) : EngineEvent;

public enum FinishCause
{
    /// <summary>The model produced an end-of-generation token (or a BOS, which starts a new document).</summary>
    EndOfText,
    StopSequence,
    MaxOutputTokens,
    /// <summary>The sequence reached the end of its context window.</summary>
    ContextFull,
}
