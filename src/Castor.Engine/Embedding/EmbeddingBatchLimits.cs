namespace Castor.Engine.Embedding;

/// <summary>How many texts one compute run of a backend may take.</summary>
/// <param name="MaxSequences">Texts per run.</param>
/// <param name="MaxTokens">
/// Tokens per run when texts are packed together: the padded size (texts × longest) when <paramref name="Padded"/>,
/// otherwise the sum of lengths. A text longer than this (up to the model's own limit) runs alone.
/// </param>
/// <param name="Padded">Runs are rectangular tensors (ONNX), so short texts are padded to the longest of their run.</param>
/// <param name="BatchInvariant">
/// A text's vector does not depend, to the last bit, on the other texts of its run. Only then may texts of different
/// requests share a run, or a request's answers would change with whatever else happened to be waiting.
/// </param>
/// <param name="ParallelRuns">Runs the backend can compute at the same time, each on one thread (1: one run at a time).</param>
public sealed record EmbeddingBatchLimits(int MaxSequences, int MaxTokens, bool Padded, bool BatchInvariant, int ParallelRuns = 1);
