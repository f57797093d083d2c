using System.Threading.Channels;
using Castor.Application.Errors;
using Castor.Engine.Grammars;
using Castor.Engine.Models;
using Castor.Engine.Sampling;
using Castor.Engine.Scheduling;
using Castor.Engine.Templates;
using AppTokenLogprob = Castor.Application.Generation.TokenLogprob;

namespace Castor.Application.Backends;

/// <summary>
/// The llama.cpp backend: a <see cref="LlamaModel"/> and its sequence scheduler behind <see cref="IModelBackend"/>.
/// Translates requests into the engine's terms and the engine's events and exceptions back into Application ones.
/// </summary>
public sealed class LlamaBackend : IModelBackend
{
    public LlamaBackend(LlamaModel model)
    {
        Model = model;
        Description = new ModelDescription
        {
            Id = model.Id,
            DisplayName = model.DisplayName,
            Version = model.Metadata.GetValueOrDefault("general.version"),
            Architecture = model.Architecture,
            FileName = Path.GetFileName(model.Spec.Path),
            ParameterCount = model.ParameterCount,
            ChatTemplateName = model.Template.Name,
            ChatTemplateSource = model.Metadata.GetValueOrDefault("tokenizer.chat_template") ?? "",
            ContextSize = model.ContextSize,
            Parallel = model.Parallel,
            KvCells = model.KvCells,
            FlashAttention = model.FlashAttentionSetting,
            DecodeThreads = model.DecodeThreads,
            BatchThreads = model.BatchThreads,
            Thinking = model.Thinking is { } t ? new ThoughtMarkers(t.Start, t.End, t.StartsInThought) : null,
            Projector = model.Projector is { } p
                ? new ProjectorInfo(p.SupportsVision, p.SupportsAudio, p.AudioSampleRate, p.ProjectorType, Path.GetFileName(p.Path),
                    p.HasDynamicResolution, p.UsesMRope, p.NonCausal)
                : null,
        };
    }

    /// <summary>The engine model, for the composition root and tests that watch its scheduler; adapters never see it.</summary>
    public LlamaModel Model { get; }

    public ModelDescription Description { get; }

    public int[] TokenizePrompt(IReadOnlyList<PromptMessage> messages)
    {
        var chat = new ChatMessage[messages.Count];
        for (var i = 0; i < chat.Length; i++) chat[i] = new ChatMessage(messages[i].Role, messages[i].Text);
        return Model.TokenizePrompt(chat);
    }

    public MediaPrompt TokenizeMediaPrompt(IReadOnlyList<PromptMessage> messages)
    {
        var chat = new ChatMessage[messages.Count];
        for (var i = 0; i < chat.Length; i++) chat[i] = new ChatMessage(messages[i].Role, messages[i].Text, messages[i].Media);
        try
        {
            return new EngineMediaPrompt(Model.TokenizeMediaPrompt(chat));
        }
        catch (ArgumentException ex)
        {
            // Media the projector cannot take (checked by the caller first, so this names no part) or markers that do not match.
            throw CastorException.InvalidArgument(ex.Message);
        }
    }

    public int[] TokenizeMarker(string text) => Model.TokenizeMarker(text);

    public int CountTokens(string text) => Model.CountTokens(text);

    public ChannelReader<BackendEvent> Generate(BackendRequest request, CancellationToken cancellationToken)
    {
        var s = request.Sampling;
        var engineRequest = new EngineRequest(
            request.MediaPrompt is EngineMediaPrompt media ? media.Prompt : EnginePrompt.FromTokens(request.PromptTokens),
            new SamplingParameters(s.Temperature, s.TopP, s.TopK, s.Seed, s.PresencePenalty, s.FrequencyPenalty),
            request.MaxOutputTokens,
            request.StopSequences,
            request.Candidates,
            request.Grammar is { } g ? new GrammarConstraint(g.Gbnf, g.Root, g.TriggerPatterns) : null,
            request.Thinking is { } t ? new ThinkingControl(t.StartTokens, t.EndTokens, t.Budget, t.StartsInThought) : null,
            request.TopLogprobs,
            request.PrefixPartition,
            request.Priority)
        {
            Snapshot = request.PrefixSnapshot is { } snapshot && snapshot.Identity == SnapshotIdentity
                ? new PrefixSnapshot(snapshot.Tokens, snapshot.State)
                : null,
        };
        try
        {
            return new EngineEventReader(Model.Generate(engineRequest, cancellationToken));
        }
        catch (EngineOverloadedException)
        {
            throw CastorException.Overloaded();
        }
        catch (InvalidGrammarException ex)
        {
            throw new GrammarRejectedException(ex.Message, ex);
        }
    }

    public string SnapshotIdentity => Model.SnapshotIdentity;

    public async Task<KvSnapshot> SavePrefixSnapshotAsync(IReadOnlyList<int> tokens, string partition, CancellationToken cancellationToken)
    {
        var snapshot = await Model.SavePrefixSnapshotAsync(tokens, partition, cancellationToken).ConfigureAwait(false);
        return new KvSnapshot(SnapshotIdentity, snapshot.Tokens, snapshot.State);
    }

    public void Dispose() => Model.Dispose();

    /// <summary>The engine's prompt with media behind the Application's <see cref="MediaPrompt"/>.</summary>
    private sealed class EngineMediaPrompt(EnginePrompt prompt) : MediaPrompt
    {
        public EnginePrompt Prompt { get; } = prompt;
        public override int TextTokens => Prompt.TextTokens;
        public override int ImageTokens => Prompt.ImageTokens;
        public override int AudioTokens => Prompt.AudioTokens;
        public override MediaPrompt Append(IReadOnlyList<int> tokens) => new EngineMediaPrompt(Prompt.Append(tokens));
    }

    /// <summary>
    /// The engine's event stream seen as Application events, translated as they are read: no pump task, and the
    /// reader keeps the engine channel's batching (WaitToRead, then TryRead until empty), which the stream relies on.
    /// </summary>
    private sealed class EngineEventReader(ChannelReader<EngineEvent> inner) : ChannelReader<BackendEvent>
    {
        public override Task Completion => inner.Completion;

        public override bool TryRead(out BackendEvent item)
        {
            if (inner.TryRead(out var e))
            {
                item = Translate(e);
                return true;
            }
            item = null!;
            return false;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => inner.WaitToReadAsync(cancellationToken);

        private static BackendEvent Translate(EngineEvent e) => e switch
        {
            TextGenerated t => new TextProduced(t.Candidate, t.Text),
            PromptProcessed p => new PromptEvaluated(p.PromptTokens, p.ReusedTokens),
            Engine.Scheduling.GenerationStarted => GenerationAdmitted.Instance,
            TokenLogprobsComputed l => new LogprobsProduced(l.Candidate, Translate(l.Chosen), l.Top.Select(Translate).ToArray()),
            GenerationFinished f => new CandidateFinished(f.Candidate, f.Cause switch
            {
                Engine.Scheduling.FinishCause.EndOfText => FinishCause.EndOfText,
                Engine.Scheduling.FinishCause.StopSequence => FinishCause.StopSequence,
                Engine.Scheduling.FinishCause.MaxOutputTokens => FinishCause.MaxOutputTokens,
                _ => FinishCause.ContextFull,
            }, f.OutputTokens, f.ThoughtTokens),
            GenerationFailed failed => new BackendFailed(failed.Message, failed.ByRequest),
            _ => throw new InvalidOperationException($"The engine sent an event this backend does not know: {e.GetType().Name}."),
        };

        private static AppTokenLogprob Translate(Engine.Sampling.TokenLogprob t) => new(t.TokenId, t.Token, t.Bytes, t.Logprob);
    }
}
