namespace Castor.Application.Generation;

/// <summary>
/// One step of a streamed generation: new text for a candidate, and on the candidate's last update its finish reason.
/// <see cref="Usage"/> is the running total (final when every candidate has finished).
/// </summary>
/// <see cref="FunctionCalls"/> are calls completed in this step (they follow <see cref="Text"/>).
/// <see cref="Thought"/> is thought text (only when the request asked for thoughts; it precedes the answer).
public sealed record GenerationUpdate(int CandidateIndex, string Text, FinishReason? FinishReason, Usage Usage, IReadOnlyList<FunctionCallPart>? FunctionCalls = null, string Thought = "");
