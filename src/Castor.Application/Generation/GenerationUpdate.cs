namespace Castor.Application.Generation;

/// <summary>
/// One step of a streamed generation for one candidate: answer parts (text and completed function calls, in the
/// order the model wrote them), thought text when thoughts were asked for, and on the candidate's last update its
/// finish reason. <see cref="Usage"/> is the running total (final when every candidate has finished).
/// </summary>
public sealed record GenerationUpdate(int CandidateIndex, IReadOnlyList<Part> Parts, FinishReason? FinishReason, Usage Usage, string Thought = "",
    IReadOnlyList<LogprobStep>? Logprobs = null)
{
    public string Text => string.Concat(Parts.OfType<TextPart>().Select(p => p.Text));
    public IReadOnlyList<FunctionCallPart> FunctionCalls => Parts.OfType<FunctionCallPart>().ToList();
}

/// <summary>One decoding step's log probabilities (when asked for): the token chosen and the most likely tokens, best first.</summary>
public sealed record LogprobStep(TokenLogprob Chosen, IReadOnlyList<TokenLogprob> Top);
