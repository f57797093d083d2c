using System.Threading.Channels;
using Castor.Application.Backends;

namespace Castor.UnitTests.Generation;

/// <summary>
/// A model backend that records what the generation rules ask of it and answers with scripted output. Every character
/// is one token (prompts render as <c>role: text</c> lines), so token counts in tests are plain string lengths.
/// </summary>
internal sealed class FakeModelBackend : IModelBackend
{
    public FakeModelBackend(string id = "fake", int parallel = 2, int contextSize = 4096, ThoughtMarkers? thinking = null, string chatTemplate = "")
    {
        Description = new ModelDescription
        {
            Id = id,
            DisplayName = "Fake " + id,
            Architecture = "fake",
            FileName = id + ".gguf",
            ChatTemplateName = "fake",
            ChatTemplateSource = chatTemplate,
            ContextSize = contextSize,
            Parallel = parallel,
            KvCells = parallel * contextSize,
            Thinking = thinking,
        };
    }

    public ModelDescription Description { get; }

    /// <summary>What each candidate writes (candidate i gets <c>Outputs[i % Count]</c>).</summary>
    public IReadOnlyList<string> Outputs { get; set; } = ["Hello there."];

    /// <summary>How each candidate ends.</summary>
    public FinishCause Finish { get; set; } = FinishCause.EndOfText;

    /// <summary>Tokens of the prompt that were already resident (reported as cached).</summary>
    public int ReusedTokens { get; set; }

    /// <summary>Replaces the scripted answer: the test writes the events itself.</summary>
    public Func<BackendRequest, ChannelReader<BackendEvent>>? Script { get; set; }

    /// <summary>Thrown by <see cref="Generate"/>, as a real backend refuses a request up front.</summary>
    public Exception? Refusal { get; set; }

    public List<BackendRequest> Requests { get; } = [];
    public IReadOnlyList<PromptMessage>? LastMessages { get; private set; }
    public BackendRequest LastRequest => Requests[^1];
    public bool Disposed { get; private set; }

    public static string Render(IReadOnlyList<PromptMessage> messages) => string.Concat(messages.Select(m => $"{m.Role}: {m.Text}\n"));

    public int[] TokenizePrompt(IReadOnlyList<PromptMessage> messages)
    {
        LastMessages = messages;
        return Tokens(Render(messages));
    }

    public int[] TokenizeMarker(string text) => Tokens(text);

    public int CountTokens(string text) => text.Length;

    public ChannelReader<BackendEvent> Generate(BackendRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Disposed, this);
        Requests.Add(request);
        if (Refusal is not null) throw Refusal;
        if (Script is not null) return Script(request);
        var channel = Channel.CreateUnbounded<BackendEvent>();
        channel.Writer.TryWrite(new PromptEvaluated(request.PromptTokens.Count, ReusedTokens));
        for (var i = 0; i < request.Candidates; i++)
        {
            var text = Outputs[i % Outputs.Count];
            channel.Writer.TryWrite(new TextProduced(i, text));
            var thoughts = ThoughtTokens(text);
            channel.Writer.TryWrite(new CandidateFinished(i, Finish, text.Length, thoughts));
        }
        channel.Writer.Complete();
        return channel.Reader;
    }

    public void Dispose() => Disposed = true;

    /// <summary>Characters between the thought markers count as thought tokens, as the engine counts them.</summary>
    private int ThoughtTokens(string text)
    {
        if (Description.Thinking is not { } m) return 0;
        var start = m.StartsInThought ? 0 : text.IndexOf(m.Start, StringComparison.Ordinal);
        var end = text.IndexOf(m.End, StringComparison.Ordinal);
        return start < 0 || end < 0 ? 0 : end + m.End.Length - start;
    }

    private static int[] Tokens(string text) => text.Select(c => (int)c).ToArray();
}
