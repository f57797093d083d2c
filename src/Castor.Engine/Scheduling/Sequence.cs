using Castor.Engine.Sampling;
using Castor.Engine.Text;
using LLama.Native;

namespace Castor.Engine.Scheduling;

/// <summary>One candidate of a request, generating in one slot.</summary>
internal sealed class Sequence(GenerationJob job, int candidate, Slot slot, TokenSampler sampler, TokenTextDecoder decoder, StopSequenceMatcher stops)
{
    public GenerationJob Job { get; } = job;
    public int Candidate { get; } = candidate;
    /// <summary>The slot it runs in; a batch sequence preempted for interactive work resumes in another one.</summary>
    public Slot Slot { get; set; } = slot;
    public TokenSampler Sampler { get; } = sampler;
    public TokenTextDecoder Decoder { get; } = decoder;
    public StopSequenceMatcher Stops { get; } = stops;
    public SequenceState State { get; set; }

    /// <summary>
    /// Set while a preempted sequence recomputes what it had decoded (prompt and output but its newest token, which is
    /// decoded next as usual): prefilled like a prompt, without a first token drawn at the end.
    /// </summary>
    public long[]? ReplayKeys { get; set; }

    /// <summary>What <see cref="PromptOffset"/> counts into: the replay while there is one, else the prompt.</summary>
    public long[] PrefillKeys => ReplayKeys ?? Job.PromptKeys;

    /// <summary>Prompt positions decoded so far (reused ones included).</summary>
    public int PromptOffset { get; set; }

    /// <summary>Positions this sequence put in the current batch.</summary>
    public int Pending { get; set; }
    public int OutputTokens { get; set; }

    /// <summary>Where its logits are in the current batch's output, or -1 when it gets none this step.</summary>
    public int LogitIndex { get; set; } = -1;
    public LLamaToken LastToken { get; set; }
    public ThoughtPhase Phase { get; set; } = job.Request.Thinking switch
    {
        null => ThoughtPhase.Answer,
        { StartsInThought: true } => ThoughtPhase.Thinking,
        _ => ThoughtPhase.Before,
    };
    public int ThoughtTokens { get; set; }
    public RecentTokens Recent { get; } = new();
    public Queue<LLamaToken> Forced { get; } = new();

    /// <summary>A grammar-constrained draw running on a grammar worker thread, on <see cref="Logits"/>.</summary>
    public Task<LLamaToken>? Draw { get; set; }
    public long DrawStarted { get; set; }
    public bool DrawForced { get; set; }
    public float[]? Logits { get; set; }

    /// <summary>The encoded media item being decoded in slices, and how many of its positions are resident so far.</summary>
    public float[]? MediaEmbeddings { get; set; }
    public int MediaDone { get; set; }
}
