namespace Castor.Engine.Models;

/// <summary>How the engine loads and runs models. Zero means "choose for me".</summary>
public sealed class EngineOptions
{
    /// <summary>CPU threads for steps of one token (a single stream's decode); 0 = <see cref="CpuThreads.DefaultDecode()"/>
    /// (one logical processor left to the server).</summary>
    public int Threads { get; set; }

    /// <summary>CPU threads for steps of many tokens (prompts, several sequences); 0 = <see cref="Threads"/> when that is
    /// set, else every logical processor (<see cref="CpuThreads.DefaultBatch"/>).</summary>
    public int BatchThreads { get; set; }

    /// <summary>Tokens one request may use (prompt + output); 0 = the model's training context, capped at <see cref="DefaultContextCap"/>.
    /// May exceed the training context when asked for explicitly (llama.cpp allows it).</summary>
    public int ContextSize { get; set; }

    /// <summary>Sequences decoded together; 0 = sized from the context (<see cref="DefaultParallel"/>).</summary>
    public int Parallel { get; set; }

    /// <summary>Largest decode batch in tokens (prompt chunk size).</summary>
    public int BatchSize { get; set; } = 512;

    /// <summary>Requests that may wait for a free sequence before new ones get 503.</summary>
    public int MaxQueue { get; set; } = DefaultMaxQueue;

    public const int DefaultMaxQueue = 64;

    /// <summary>The most one grammar-constrained token draw may take before its request fails (see <see cref="Scheduling.SchedulerOptions.GrammarStepTimeout"/>).</summary>
    public TimeSpan GrammarStepTimeout { get; set; } = Scheduling.SchedulerOptions.DefaultGrammarStepTimeout;

    /// <summary>Flash attention for every model without its own setting; null = Castor's measured default (<see cref="FlashAttention.Resolve"/>).</summary>
    public FlashAttentionMode? FlashAttention { get; set; }

    /// <summary>Layers to offload to a GPU backend when one is present.</summary>
    public int GpuLayers { get; set; }

    /// <summary>Default context when none is configured: large training contexts (128 K) would need gigabytes of KV cache.</summary>
    public const int DefaultContextCap = 8192;

    /// <summary>KV cells the default parallelism aims for: 8 sequences of 2 K tokens, 2 of 8 K.</summary>
    public const int DefaultKvBudget = 16384;

    public static int DefaultParallel(int contextPerSequence) => Math.Clamp(DefaultKvBudget / contextPerSequence, 1, 8);
}
