using System.Threading.Channels;
using Castor.Engine.Sampling;

namespace Castor.Engine.Scheduling;

/// <summary>
/// A generation request in the scheduler: its candidates' sequences once started, and the stream its events go to.
/// </summary>
internal sealed class GenerationJob(EngineRequest request, Channel<EngineEvent> output, TokenSampler[] samplers, Action onCompleted,
    CancellationToken cancellationToken) : WorkItem(request.Priority)
{
    private int _completed;

    public EngineRequest Request { get; } = request;

    /// <summary>The prompt's <see cref="PrefixMatcher"/> keys, computed once on the caller's thread.</summary>
    public long[] PromptKeys { get; } = PrefixMatcher.Keys(request.Prompt);

    /// <summary>
    /// KV cells the prompt's media hold beyond their positions (M-RoPE images: a cell a token, fewer positions), which
    /// the sequence's window must also hold.
    /// </summary>
    public int MediaExtraCells { get; } = request.Prompt.TokenCount - request.Prompt.Length;

    /// <summary>Where each media item of the prompt starts (a position) and the item, in prompt order.</summary>
    private readonly (int Start, MediaPlaceholder Media)[] _media = MediaStarts(request.Prompt);

    /// <summary>The media item starting at prompt position <paramref name="offset"/>, if one does.</summary>
    public MediaPlaceholder? MediaAt(int offset)
    {
        foreach (var (start, media) in _media)
            if (start == offset) return media;
        return null;
    }

    /// <summary>Where the first media item at or after <paramref name="offset"/> starts (the prompt's length when none does).</summary>
    public int NextMediaStart(int offset)
    {
        foreach (var (start, _) in _media)
            if (start >= offset) return start;
        return PromptKeys.Length;
    }

    private static (int, MediaPlaceholder)[] MediaStarts(EnginePrompt prompt)
    {
        if (!prompt.HasMedia) return [];
        var list = new List<(int, MediaPlaceholder)>();
        var at = 0;
        foreach (var chunk in prompt.Chunks)
        {
            if (chunk is MediaPlaceholder media) list.Add((at, media));
            at += chunk.Length;
        }
        return [.. list];
    }
    public TokenSampler[] Samplers { get; } = samplers;
    public Channel<EngineEvent> Output { get; } = output;
    public CancellationToken CancellationToken { get; } = cancellationToken;
    public Sequence[] Sequences { get; set; } = [];
    public int Remaining { get; set; }
    public int ReusedTokens { get; set; }

    public override bool IsCancelled => CancellationToken.IsCancellationRequested;

    public override bool TryStart(SequenceScheduler scheduler) => scheduler.TryStart(this);

    public override void Abandon() => Complete();

    /// <summary>Ends the request's stream, frees its samplers and gives its place back, once.</summary>
    public void Complete()
    {
        if (Interlocked.Exchange(ref _completed, 1) == 1) return;
        Output.Writer.TryComplete();
        for (var i = 0; i < Samplers.Length; i++)
        {
            var sampler = Samplers[i];
            // A draw still running on a grammar worker owns its sampler until llama.cpp returns.
            if (i < Sequences.Length && Sequences[i].Draw is { IsCompleted: false } draw)
                draw.ContinueWith(_ => sampler.Dispose(), TaskScheduler.Default);
            else
                sampler.Dispose();
        }
        onCompleted();
    }
}
