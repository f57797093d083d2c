namespace Castor.Application.Generation;

public sealed record CandidateResult(int Index, string Text, FinishReason FinishReason, IReadOnlyList<FunctionCallPart> FunctionCalls, string Thought = "");

/// <summary>A whole (non-streamed) generation.</summary>
public sealed record GenerationResult(string ModelVersion, IReadOnlyList<CandidateResult> Candidates, Usage Usage);
