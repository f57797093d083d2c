namespace Castor.Engine.Scheduling;

/// <summary>How one model's scheduler runs.</summary>
/// <param name="Parallel">Sequences decoded together in one batch.</param>
/// <param name="ContextPerSequence">Tokens each sequence may hold (prompt + output).</param>
/// <param name="BatchSize">Largest number of tokens sent to llama.cpp in one decode call; long prompts are split into chunks of this size.</param>
/// <param name="MaxQueue">Requests allowed to wait for a free sequence; more are refused at once.</param>
public sealed record SchedulerOptions(int Parallel, int ContextPerSequence, int BatchSize, int MaxQueue)
{
    /// <summary>
    /// The most one grammar-constrained draw may take. Grammar work runs beside the decode loop, so a slow grammar never
    /// holds up other sequences; past this budget its request fails with a clear error and its sequence is freed.
    /// </summary>
    public TimeSpan GrammarStepTimeout { get; init; } = DefaultGrammarStepTimeout;

    public static readonly TimeSpan DefaultGrammarStepTimeout = TimeSpan.FromSeconds(5);
}
