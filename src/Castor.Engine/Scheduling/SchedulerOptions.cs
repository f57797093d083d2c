namespace Castor.Engine.Scheduling;

public sealed record SchedulerOptions(
    /// <summary>Sequences decoded together in one batch.</summary>
    int Parallel,
    /// <summary>Tokens each sequence may hold (prompt + output).</summary>
    int ContextPerSequence,
    /// <summary>Largest number of tokens sent to llama.cpp in one decode call; long prompts are split into chunks of this size.</summary>
    int BatchSize,
    /// <summary>Requests allowed to wait for a free sequence; more are refused at once.</summary>
    int MaxQueue)
{
    /// <summary>
    /// The most one grammar-constrained draw may take. Grammar work runs beside the decode loop, so a slow grammar never
    /// holds up other sequences; past this budget its request fails with a clear error and its sequence is freed.
    /// </summary>
    public TimeSpan GrammarStepTimeout { get; init; } = DefaultGrammarStepTimeout;

    public static readonly TimeSpan DefaultGrammarStepTimeout = TimeSpan.FromSeconds(5);
}
