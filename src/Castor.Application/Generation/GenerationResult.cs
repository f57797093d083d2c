namespace Castor.Application.Generation;

/// <summary>A finished candidate: its answer parts in order (adjacent text merged) and its thoughts, if asked for.</summary>
public sealed record CandidateResult(int Index, IReadOnlyList<Part> Parts, FinishReason FinishReason, string Thought = "",
    IReadOnlyList<LogprobStep>? Logprobs = null)
{
    public string Text => string.Concat(Parts.OfType<TextPart>().Select(p => p.Text));
    public IReadOnlyList<FunctionCallPart> FunctionCalls => Parts.OfType<FunctionCallPart>().ToList();
}

/// <summary>A whole (non-streamed) generation.</summary>
public sealed record GenerationResult(string ModelVersion, IReadOnlyList<CandidateResult> Candidates, Usage Usage);
