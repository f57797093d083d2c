using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Castor.Application.Backends;
using Castor.Application.Caching;
using Castor.Application.Errors;
using Castor.Application.Files;
using Castor.Application.Keys;
using Castor.Application.Media;
using Castor.Application.Models;
using Castor.Application.Tools;
using Castor.Engine.Grammars;
using PromptMedia = Castor.Engine.Media.PromptMedia;

namespace Castor.Application.Generation;

/// <summary>
/// The Gemini API's generation rules, shared by every protocol adapter: validates a request, resolves its model,
/// renders and tokenizes the prompt, applies sampling defaults, and runs it on the model's <see cref="IModelBackend"/>.
/// Everything that can be refused is refused in <c>Start</c>, before a streamed response begins.
/// </summary>
public sealed class GenerationService(ModelCatalogue catalogue, FilePartResolver? files = null, GenerationOptions? options = null,
    ICachedContentService? caches = null) : IGenerationService
{
    private readonly bool _sharePrefixes = options?.SharePrefixesAcrossProjects ?? false;

    /// <summary>
    /// Validates and submits a request, after putting its cached content first and turning its file and inline parts
    /// into text (in the caller's project); the returned stream yields text as the model produces it.
    /// </summary>
    public async Task<GenerationStream> StartAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken)
    {
        var (withCache, cache) = await ResolveCacheAsync(caller, request, cancellationToken).ConfigureAwait(false);
        return await StartResolvedAsync(caller, await ResolveFilesAsync(caller, withCache, cancellationToken).ConfigureAwait(false), cache, cancellationToken)
            .ConfigureAwait(false);
    }

    private async Task<GenerationStream> StartResolvedAsync(Caller caller, GenerationRequest request, ResolvedCachedContent? cache, CancellationToken cancellationToken)
    {
        var lease = catalogue.Acquire(request.Model);
        try
        {
            return await StartOnAsync(caller, request, lease, cache, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    private async Task<GenerationStream> StartOnAsync(Caller caller, GenerationRequest request, ModelLease lease, ResolvedCachedContent? cache,
        CancellationToken cancellationToken)
    {
        var model = lease.Backend;
        var facts = model.Description;
        var config = request.Config;
        ValidateConfig(config);
        RejectUnsupportedFeatures(request);
        ValidateSafetySettings(request.SafetySettings);

        if (request.Contents.Count == 0)
            throw CastorException.InvalidField("contents", "contents is not specified; send at least one content with a part.");

        var (prompt, grammar, grammarField, tools, thinking) = Prepare(request, model, cancellationToken);
        var maxPrompt = facts.ContextSize - 1;
        if (prompt.Counts.Total > maxPrompt)
            throw CastorException.InvalidArgument(
                $"The input token count ({prompt.Counts.Total}) exceeds the maximum number of tokens allowed ({maxPrompt}).");

        var maxOutput = config.MaxOutputTokens is > 0 ? config.MaxOutputTokens.Value : facts.ContextSize - 1;
        var sampling = new SamplingSettings(
            Temperature: (float)(config.Temperature ?? GenerationDefaults.Temperature),
            TopP: (float)(config.TopP ?? GenerationDefaults.TopP),
            TopK: config.TopK is > 0 ? config.TopK.Value : GenerationDefaults.TopK,
            Seed: config.Seed is { } seed ? unchecked((uint)seed) : (uint)RandomNumberGenerator.GetInt32(int.MaxValue),
            PresencePenalty: (float)(config.PresencePenalty ?? 0),
            FrequencyPenalty: (float)(config.FrequencyPenalty ?? 0));

        var candidates = config.CandidateCount is > 0 ? config.CandidateCount.Value : 1;
        var parallel = facts.Parallel;
        if (candidates > parallel)
            throw CastorException.InvalidField("generationConfig.candidateCount",
                $"{candidates} candidates need {candidates} parallel sequences, but model '{facts.Id}' runs {parallel}; start Castor with --parallel {candidates} or more.");

        // Everything that can refuse the request has run; the prompt's real counts are known and nothing is queued yet.
        if (request.Admission is { } admit) await admit(facts.Id, prompt.Counts, cancellationToken).ConfigureAwait(false);

        ChannelReader<BackendEvent> events;
        try
        {
            var topLogprobs = config.ResponseLogprobs == true ? config.Logprobs ?? 0 : (int?)null;
            var output = grammar is null ? null : new OutputGrammar(grammar.Gbnf, grammar.Root, grammar.TriggerPatterns);
            events = model.Generate(new BackendRequest(prompt.Tokens, sampling, maxOutput, config.StopSequences ?? [], candidates, output, thinking, topLogprobs,
                PrefixPartition(caller), prompt.Media, request.Priority) { PrefixSnapshot = cache?.Snapshot }, cancellationToken);
        }
        catch (GrammarRejectedException ex)
        {
            throw CastorException.InvalidField(grammarField ?? FieldPath.Of("generationConfig"), "the schema cannot be enforced: " + ex.Message);
        }
        var splitTools = tools is { Mode: not FunctionCallingMode.None } ? ToolCallFormat.For(facts.ChatTemplateSource) : null;
        return new GenerationStream(facts.Id, prompt.Counts.Total, candidates, events, splitTools,
            thinking is null ? null : facts.Thinking, config.ThinkingConfig?.IncludeThoughts == true, lease,
            cache is null ? null : Math.Min(cache.Cache.TotalTokenCount, prompt.Counts.Total), cancellationToken)
        {
            PromptTokensDetails = prompt.Counts,
        };
    }

    /// <summary>Implicit caching stays inside a project unless the server is set up for one tenant.</summary>
    private string PrefixPartition(Caller caller) => PrefixPartitionOf(caller.ProjectId, _sharePrefixes);

    /// <summary>The resident-prefix partition of a project's requests (one for all when prefixes are shared across projects).</summary>
    internal static string PrefixPartitionOf(string projectId, bool shared = false) => shared ? "" : "project:" + projectId;

    /// <summary>
    /// A request that names a cached content: the cache's system instruction, tools, tool config and contents go
    /// before the request's contents, as the API does; the request may not set those itself, and must be for the
    /// cache's model.
    /// </summary>
    private async Task<(GenerationRequest Request, ResolvedCachedContent? Cache)> ResolveCacheAsync(Caller caller, GenerationRequest request,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.CachedContent)) return (request, null);
        if (caches is null) throw CastorException.Unsupported("cachedContent", "Context caching");
        if (request.SystemInstruction is not null)
            throw CastorException.InvalidField("systemInstruction",
                "CachedContent can not be used with GenerateContent request setting system_instruction, tools or tool_config. Move them into the cached content.");
        if (request.Tools.Count > 0)
            throw CastorException.InvalidField("tools",
                "CachedContent can not be used with GenerateContent request setting system_instruction, tools or tool_config. Move them into the cached content.");
        if (request.ToolChoice is not null)
            throw CastorException.InvalidField("toolConfig",
                "CachedContent can not be used with GenerateContent request setting system_instruction, tools or tool_config. Move them into the cached content.");
        var cache = await caches.ResolveAsync(caller, request.CachedContent, "cachedContent", cancellationToken).ConfigureAwait(false);
        var requested = catalogue.ResolveGenerative(request.Model).Description.Id;
        var cached = catalogue.ResolveGenerative(cache.Cache.Model).Description.Id;
        if (!string.Equals(requested, cached, StringComparison.OrdinalIgnoreCase))
            throw CastorException.InvalidField("model",
                $"Model {ModelCatalogue.StripPrefix(request.Model)} does not match the model of {cache.Cache.Name} ({cache.Cache.Model}); use the cache's model.");
        return (request with
        {
            Contents = [.. cache.Contents, .. request.Contents],
            SystemInstruction = cache.SystemInstruction,
            Tools = cache.Tools,
            ToolChoice = cache.ToolChoice,
            CachedContent = null,
        }, cache);
    }

    /// <summary>Runs a request to completion.</summary>
    public async Task<GenerationResult> GenerateAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken) =>
        await CollectAsync(await StartAsync(caller, request, cancellationToken).ConfigureAwait(false), request.Config.ResponseLogprobs == true,
            cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Reads a started stream to the end into one result (what generateContent answers), so a wrapping service can run a
    /// non-streamed call through its own <see cref="StartAsync"/>.
    /// </summary>
    public static async Task<GenerationResult> CollectAsync(GenerationStream stream, bool responseLogprobs, CancellationToken cancellationToken)
    {
        var parts = Enumerable.Range(0, stream.CandidateCount).Select(_ => new List<Part>()).ToArray();
        var thoughts = Enumerable.Range(0, stream.CandidateCount).Select(_ => new StringBuilder()).ToArray();
        var finishes = new FinishReason[stream.CandidateCount];
        var logprobs = responseLogprobs ? Enumerable.Range(0, stream.CandidateCount).Select(_ => new List<LogprobStep>()).ToArray() : null;
        Usage usage = new(stream.PromptTokenCount, 0) { PromptTokensDetails = stream.PromptTokensDetails };
        await foreach (var update in stream.ReadAllAsync(cancellationToken))
        {
            if (update.Logprobs is { } steps) logprobs?[update.CandidateIndex].AddRange(steps);
            var list = parts[update.CandidateIndex];
            foreach (var part in update.Parts)
            {
                // Adjacent text pieces become one text part, as the API answers.
                if (part is TextPart next && list.Count > 0 && list[^1] is TextPart previous)
                    list[^1] = new TextPart(previous.Text + next.Text);
                else
                    list.Add(part);
            }
            thoughts[update.CandidateIndex].Append(update.Thought);
            usage = update.Usage;
            if (update.FinishReason is { } f) finishes[update.CandidateIndex] = f;
        }
        var candidates = parts.Select((p, i) => new CandidateResult(i, p, finishes[i], thoughts[i].ToString(), logprobs?[i])).ToList();
        return new GenerationResult(stream.ModelVersion, candidates, usage);
    }

    /// <summary>Counts the prompt tokens a generateContent call would use (the same path, files included, so the numbers agree).</summary>
    public async Task<int> CountTokensAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken) =>
        (await CountPromptTokensAsync(caller, request, cancellationToken).ConfigureAwait(false)).Total;

    /// <summary>The prompt tokens a generateContent call would use, by modality (images and audio as the projector encodes them).</summary>
    public async Task<PromptTokenCounts> CountPromptTokensAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken)
    {
        (request, _) = await ResolveCacheAsync(caller, request, cancellationToken).ConfigureAwait(false);
        request = await ResolveFilesAsync(caller, request, cancellationToken).ConfigureAwait(false);
        using var lease = catalogue.Acquire(request.Model, "countTokens");
        if (request.Contents.Count == 0 && request.SystemInstruction is null) return new PromptTokenCounts(0);
        return Prepare(request, lease.Backend, cancellationToken).Prompt.Counts;
    }

    private Task<GenerationRequest> ResolveFilesAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken) =>
        files is null ? Task.FromResult(request) : files.ResolveAsync(request, caller.ProjectId, () => MediaTargetOf(request.Model), cancellationToken);

    /// <summary>
    /// The model a request's images and audio are for and which of them it reads, asked before any media is decoded.
    /// The seam for projectors: until a backend reports a vision or audio projector, every model is text-only.
    /// </summary>
    private MediaTarget MediaTargetOf(string model)
    {
        var backend = catalogue.ResolveGenerative(model);
        return new MediaTarget(backend.Description.Id, backend.Description.Projector is { } p
            ? new MediaSupport(p.Vision, p.Audio, p.AudioSampleRate > 0 ? p.AudioSampleRate : MediaSupport.DefaultAudioSampleRate)
            : MediaSupport.None);
    }

    /// <summary>
    /// The prompt tokens <paramref name="request"/> renders to on <paramref name="model"/> (its files resolved already).
    /// A cached content is a KV snapshot of text tokens, so images and audio in it are refused rather than dropped.
    /// </summary>
    internal static int[] PreparePrompt(GenerationRequest request, IModelBackend model, CancellationToken cancellationToken)
    {
        var prompt = Prepare(request, model, cancellationToken).Prompt;
        if (prompt.Media is not null)
            throw CastorException.InvalidField("contents",
                "Castor cannot cache images or audio yet: send them in the request that uses the cached content instead.");
        return prompt.Tokens;
    }

    /// <summary>
    /// Everything the prompt is made of: the system instruction, the declared functions and the output format's
    /// instruction (both count toward input tokens, as in the API), and the turns with calls and results rendered in
    /// the model's tool format; plus the grammar that output must follow.
    /// </summary>
    private static (PreparedPrompt Prompt, GrammarConstraint? Grammar, FieldPath? GrammarField, ToolSet? Tools, ThinkingPlan? Thinking) Prepare(GenerationRequest request, IModelBackend model, CancellationToken cancellationToken)
    {
        var format = ResponseConstraint.For(request.Config.ResponseFormat, cancellationToken);
        var tools = ToolSetParser.Parse(request.Tools, request.ToolChoice);
        var toolFormat = ToolCallFormat.For(model.Description.ChatTemplateSource);
        var active = tools is { Mode: not FunctionCallingMode.None } ? tools : null;
        if (active is not null && format is not null)
            throw CastorException.Unsupported("generationConfig.responseMimeType", "Structured output together with function calling");

        var instructions = new List<string>();
        if (active is not null) instructions.Add(toolFormat.DeclarationsInstruction(active.Functions, active.Mode));
        if (format is not null) instructions.Add(format.Instruction);

        var messages = new List<PromptMessage>(request.Contents.Count + 1);
        var resolution = request.Config.MediaResolution;
        var (system, systemMedia) = request.SystemInstruction is null ? ("", null) : JoinText(request.SystemInstruction, "systemInstruction", toolFormat, resolution);
        foreach (var instruction in instructions)
            system = system.Length == 0 ? instruction : system + "\n\n" + instruction;
        if (system.Length > 0 || systemMedia is not null) messages.Add(new PromptMessage("system", system, systemMedia));
        for (var i = 0; i < request.Contents.Count; i++)
        {
            var content = request.Contents[i];
            var role = content.Role switch
            {
                "" or Content.UserRole or "function" => "user",
                Content.ModelRole => "assistant",
                _ => throw CastorException.InvalidField($"contents[{i}].role", $"'{content.Role}' is not a valid role. Please use a valid role: user, model."),
            };
            var (text, media) = JoinText(content, $"contents[{i}]", toolFormat, resolution);
            messages.Add(new PromptMessage(role, text, media));
        }

        GrammarConstraint? grammar = format?.Grammar;
        var field = format?.Field;
        if (active is not null)
        {
            try
            {
                grammar = toolFormat.Grammar(active.Callable, lazy: active.Mode == FunctionCallingMode.Auto,
                    maxCalls: request.ParallelFunctionCalls ? ToolCallFormat.MaxParallelCalls : 1, cancellationToken);
                field = FieldPath.Of("tools");
            }
            catch (UnsupportedSchemaException ex)
            {
                throw CastorException.InvalidField("tools.functionDeclarations." + ex.Path.TrimStart('/').Replace('/', '.'), ex.Message);
            }
        }
        var prompt = messages.Any(m => m.Media is not null)
            ? new PreparedPrompt([], model.TokenizeMediaPrompt(messages))
            : new PreparedPrompt(model.TokenizePrompt(messages), null);
        var thinking = PlanThinking(request.Config.ThinkingConfig, model, grammar, ref prompt);
        return (prompt, grammar, field, tools, thinking);
    }

    /// <summary>
    /// thinkingBudget: 0 = answer directly, -1 = as long as the model likes, N = at most N thought tokens, then the end
    /// marker is forced. Models that cannot think ignore the setting, as the API does; a strict grammar (structured output,
    /// forced calls) must hold from the first token, so such requests answer directly.
    /// </summary>
    private static ThinkingPlan? PlanThinking(ThinkingConfig? config, IModelBackend model, GrammarConstraint? grammar, ref PreparedPrompt prompt)
    {
        if (model.Description.Thinking is not { } markers) return null;
        var budget = config?.ThinkingBudget ?? config?.ThinkingLevel switch
        {
            ThinkingLevel.Minimal => 0,
            ThinkingLevel.Low => 1024,
            ThinkingLevel.Medium => 8192,
            ThinkingLevel.High => 24576,
            _ => -1,
        };
        if (grammar is { IsLazy: false }) budget = 0;
        if (budget == 0 && markers.StartsInThought)
        {
            // The template opened a thought: close it in the prompt so the model starts with its answer.
            prompt = prompt.Append(model.TokenizeMarker(markers.End));
            return null;
        }
        return new ThinkingPlan(model.TokenizeMarker(markers.Start), model.TokenizeMarker(markers.End), budget, markers.StartsInThought);
    }

    /// <summary>
    /// The text a content contributes to the prompt, and its images and audio at their places in it (null when it has
    /// none). Thoughts from earlier turns are not fed back, as in the API.
    /// </summary>
    private static (string Text, List<PromptMedia>? Media) JoinText(Content content, string path, ToolCallFormat tools, MediaResolution? resolution)
    {
        List<PromptMedia>? media = null;
        if (content.Parts.Count == 0)
            throw CastorException.InvalidField($"{path}.parts", "must not be empty; a content needs at least one part.");
        var sb = new StringBuilder();
        for (var j = 0; j < content.Parts.Count; j++)
        {
            var field = $"{path}.parts[{j}]";
            switch (content.Parts[j])
            {
                case TextPart { Thought: true }:
                    break;
                case TextPart text:
                    if (text.Text.Length == 0)
                        throw CastorException.InvalidField($"{field}.text",
                            "Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again.");
                    if (sb.Length > 0) sb.Append('\n');
                    sb.Append(text.Text);
                    break;
                case InlineDataPart inline:
                    throw CastorException.Unsupported($"{field}.inlineData", $"Inline data of type '{inline.MimeType}'");
                case FileDataPart file:
                    throw CastorException.Unsupported($"{field}.fileData", $"File data ('{file.FileUri}')");
                case MediaPart item:
                    // Only a model that reported a projector gets decoded media (FilePartResolver checks first); the
                    // item sits on a line of its own among the text parts.
                    if (sb.Length > 0) sb.Append('\n');
                    (media ??= []).Add(new PromptMedia(sb.Length, item.Media, MaxImageTokens(item.Resolution ?? resolution)));
                    break;
                case FunctionCallPart call:
                    if (call.Name.Length == 0) throw CastorException.InvalidField($"{field}.functionCall.name", "a function call needs a name.");
                    if (sb.Length > 0) sb.Append('\n');
                    sb.Append(tools.RenderCall(call));
                    break;
                case FunctionResponsePart response:
                    if (response.Name.Length == 0) throw CastorException.InvalidField($"{field}.functionResponse.name", "a function response needs the name of the function it answers.");
                    if (sb.Length > 0) sb.Append('\n');
                    sb.Append(tools.RenderResponse(response));
                    break;
                case OtherPart other:
                    throw CastorException.Unsupported($"{field}.{other.Kind}", $"The part kind '{other.Kind}'");
                default:
                    throw CastorException.InvalidField(field, "the part has no data; set text, inlineData or fileData.");
            }
        }
        return (sb.ToString(), media);
    }

    /// <summary>
    /// mediaResolution as the most tokens an image may become (projectors with a dynamic resolution honour it, fixed-size
    /// ones ignore it), after the API's own image costs: 66 tokens at low resolution (a low-resolution video frame), 258
    /// at medium (one image tile); high, ultra high and unset leave the projector's own limit.
    /// </summary>
    private static int? MaxImageTokens(MediaResolution? resolution) => resolution switch
    {
        MediaResolution.Low => 66,
        MediaResolution.Medium => 258,
        _ => null,
    };

    /// <summary>
    /// A prompt ready to run: text tokens, or a backend's prompt with media (then <see cref="Tokens"/> is empty), and
    /// what it costs by modality.
    /// </summary>
    private readonly record struct PreparedPrompt(int[] Tokens, MediaPrompt? Media)
    {
        public PromptTokenCounts Counts => Media is { } m ? new PromptTokenCounts(m.TextTokens, m.ImageTokens, m.AudioTokens) : new PromptTokenCounts(Tokens.Length);

        public PreparedPrompt Append(int[] tokens) => Media is { } m ? new PreparedPrompt([], m.Append(tokens)) : new PreparedPrompt([.. Tokens, .. tokens], null);
    }

    private static void ValidateConfig(GenerationConfig c)
    {
        const string p = "generationConfig.";
        if (c.Temperature is { } t && (double.IsNaN(t) || t < 0 || t > GenerationDefaults.MaxTemperature))
            throw CastorException.InvalidField(p + "temperature", $"{t} is out of range; temperature must be between 0 and {GenerationDefaults.MaxTemperature}.");
        if (c.TopP is { } topP && (double.IsNaN(topP) || topP < 0 || topP > 1))
            throw CastorException.InvalidField(p + "topP", $"{topP} is out of range; topP must be between 0 and 1.");
        if (c.TopK is < 0)
            throw CastorException.InvalidField(p + "topK", $"{c.TopK} is out of range; topK must be positive.");
        if (c.CandidateCount is { } n && (n < 0 || n > GenerationDefaults.MaxCandidates))
            throw CastorException.InvalidField(p + "candidateCount", $"{n} is out of range; candidateCount must be between 1 and {GenerationDefaults.MaxCandidates}.");
        if (c.MaxOutputTokens is < 0)
            throw CastorException.InvalidField(p + "maxOutputTokens", $"{c.MaxOutputTokens} is out of range; maxOutputTokens must be positive.");
        if (c.StopSequences is { } stops)
        {
            if (stops.Count > GenerationDefaults.MaxStopSequences)
                throw CastorException.InvalidField(p + "stopSequences", $"at most {GenerationDefaults.MaxStopSequences} stop sequences are allowed; {stops.Count} were given.");
            for (var i = 0; i < stops.Count; i++)
                if (string.IsNullOrEmpty(stops[i]))
                    throw CastorException.InvalidField($"{p}stopSequences[{i}]", "a stop sequence must not be empty.");
        }
        CheckPenalty(c.PresencePenalty, p + "presencePenalty");
        CheckPenalty(c.FrequencyPenalty, p + "frequencyPenalty");

        if (c.Logprobs is { } top)
        {
            if (c.ResponseLogprobs != true)
                throw CastorException.InvalidField(p + "logprobs", "logprobs is only valid when responseLogprobs is true.");
            if (top is < 0 or > GenerationDefaults.MaxLogprobs)
                throw CastorException.InvalidField(p + "logprobs", $"{top} is out of range; logprobs must be between 0 and {GenerationDefaults.MaxLogprobs}.");
        }

        if (c.ThinkingConfig is { ThinkingBudget: < -1 } thinking)
            throw CastorException.InvalidField(p + "thinkingConfig.thinkingBudget", $"{thinking.ThinkingBudget} is out of range; use -1 (dynamic), 0 (off) or a positive budget.");
    }

    private static readonly HashSet<string> HarmCategories =
    [
        "HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH", "HARM_CATEGORY_SEXUALLY_EXPLICIT",
        "HARM_CATEGORY_DANGEROUS_CONTENT", "HARM_CATEGORY_CIVIC_INTEGRITY",
    ];

    private static readonly HashSet<string> HarmThresholds =
    [
        "HARM_BLOCK_THRESHOLD_UNSPECIFIED", "BLOCK_LOW_AND_ABOVE", "BLOCK_MEDIUM_AND_ABOVE", "BLOCK_ONLY_HIGH", "BLOCK_NONE", "OFF",
    ];

    private static void ValidateSafetySettings(IReadOnlyList<SafetySetting> settings)
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < settings.Count; i++)
        {
            var (category, threshold) = (settings[i].Category ?? "", settings[i].Threshold ?? "");
            if (!HarmCategories.Contains(category))
                throw CastorException.InvalidField($"safetySettings[{i}].category", $"'{category}' is not a harm category Gemini models accept.");
            if (!HarmThresholds.Contains(threshold))
                throw CastorException.InvalidField($"safetySettings[{i}].threshold", $"'{threshold}' is not a harm block threshold.");
            if (!seen.Add(category))
                throw CastorException.InvalidField($"safetySettings[{i}].category", $"{category} is set more than once; each category may appear once.");
        }
    }

    private static void CheckPenalty(double? value, string field)
    {
        if (value is { } v && (double.IsNaN(v) || v < -2 || v >= 2))
            throw CastorException.InvalidField(field, $"{v} is out of range; penalties must be in [-2.0, 2.0).");
    }

    /// <summary>Features that other issues bring; until then they are refused by name rather than ignored.</summary>
    /// <summary>
    /// The checks of a request that need no model (its config, safety settings, features this server refuses, contents),
    /// exactly as <see cref="StartAsync"/> makes them: a batch job runs them on every request before the job is accepted.
    /// </summary>
    public static void Validate(GenerationRequest request)
    {
        ValidateConfig(request.Config);
        RejectUnsupportedFeatures(request);
        ValidateSafetySettings(request.SafetySettings);
        if (request.Contents.Count == 0)
            throw CastorException.InvalidField("contents", "contents is not specified; send at least one content with a part.");
    }

    private static void RejectUnsupportedFeatures(GenerationRequest request)
    {
        const string p = "generationConfig.";
        var c = request.Config;
        if (c.ResponseModalities is { } modalities)
            foreach (var m in modalities)
                if (!string.Equals(m, "TEXT", StringComparison.OrdinalIgnoreCase) && m != "MODALITY_UNSPECIFIED")
                    throw CastorException.InvalidField(p + "responseModalities", $"'{m}' output is not supported by this model; it answers with TEXT only.");
        if (c.HasSpeechConfig)
            throw CastorException.InvalidField(p + "speechConfig", "speech generation is not supported by this model.");
        if (c.HasImageConfig)
            throw CastorException.InvalidField(p + "imageConfig", "image generation is not supported by this model.");
    }
}

/// <summary>
/// A submitted generation: what is known before the first token, and the updates as they come. It holds the lease on
/// its model until the generation is over (read to the end, failed, cancelled, or the backend's events completed), so an
/// unload waits for it. A <see cref="DelegatingGenerationService"/> may hand out its own stream that wraps this one
/// (derive, pass the inner stream to the protected constructor, override <see cref="ReadAllAsync"/>), to meter usage.
/// </summary>
public class GenerationStream
{
    private readonly GenerationStream? _inner;
    private readonly ChannelReader<BackendEvent> _events = null!;
    private readonly ToolCallFormat? _functionCalls;
    private readonly ThoughtMarkers? _thinking;
    private readonly bool _includeThoughts;
    private readonly IDisposable? _lease;

    // A request that names a cached content reports the cache's tokens as cached, restored or not (as the API bills
    // them); otherwise cachedContentTokenCount is what implicit prefix reuse found resident.
    private readonly int? _cachedContentTokens;

    internal GenerationStream(string modelVersion, int promptTokenCount, int candidateCount, ChannelReader<BackendEvent> events,
        ToolCallFormat? functionCalls = null, ThoughtMarkers? thinking = null, bool includeThoughts = false, IDisposable? lease = null,
        int? cachedContentTokens = null, CancellationToken cancellationToken = default)
    {
        _cachedContentTokens = cachedContentTokens;
        ModelVersion = modelVersion;
        PromptTokenCount = promptTokenCount;
        CandidateCount = candidateCount;
        _events = events;
        _functionCalls = functionCalls;
        _thinking = thinking;
        _includeThoughts = includeThoughts;
        _lease = lease;
        Timeline = new GenerationTimeline();
        if (lease is not null)
        {
            // Whichever comes first ends the hold: a reader that never reads must not pin the model forever.
            _ = events.Completion.ContinueWith(_ => lease.Dispose(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            cancellationToken.Register(lease.Dispose);
        }
    }

    /// <summary>A stream that wraps <paramref name="inner"/>: the same facts, and by default the same updates.</summary>
    protected GenerationStream(GenerationStream inner)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        ModelVersion = inner.ModelVersion;
        PromptTokenCount = inner.PromptTokenCount;
        PromptTokensDetails = inner.PromptTokensDetails;
        CandidateCount = inner.CandidateCount;
        Timeline = inner.Timeline;
    }

    public string ModelVersion { get; }
    public int PromptTokenCount { get; }

    /// <summary>The prompt's tokens by modality (null: all text).</summary>
    public PromptTokenCounts? PromptTokensDetails { get; init; }
    public int CandidateCount { get; }

    /// <summary>When the generation was queued, admitted and had its prompt computed (filled while it is read).</summary>
    public GenerationTimeline Timeline { get; }

    /// <summary>
    /// Yields updates as the engine produces text, coalescing whatever arrived meanwhile per candidate, so a slow
    /// client gets fewer, larger chunks instead of a growing backlog. Usage is a running total; the last update's is final.
    /// </summary>
    public virtual IAsyncEnumerable<GenerationUpdate> ReadAllAsync(CancellationToken cancellationToken = default) =>
        _inner is null ? ReadHoldingLeaseAsync(cancellationToken) : _inner.ReadAllAsync(cancellationToken);

    private async IAsyncEnumerable<GenerationUpdate> ReadHoldingLeaseAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var update in ReadUpdatesAsync(cancellationToken).ConfigureAwait(false))
                yield return update;
        }
        finally
        {
            _lease?.Dispose();
        }
    }

    private async IAsyncEnumerable<GenerationUpdate> ReadUpdatesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var functionCalls = _functionCalls;
        var thinking = _thinking;
        var includeThoughts = _includeThoughts;
        var events = _events;
        var texts = Enumerable.Range(0, CandidateCount).Select(_ => new StringBuilder()).ToArray();
        var splitters = functionCalls is null ? null : Enumerable.Range(0, CandidateCount).Select(_ => functionCalls.CreateSplitter()).ToArray();
        var thinkers = thinking is null ? null : Enumerable.Range(0, CandidateCount).Select(_ => new ThoughtSplitter(thinking)).ToArray();
        var finishes = new FinishReason?[CandidateCount];
        var outputs = new int[CandidateCount];
        var thoughtTokens = new int[CandidateCount];
        var pendingLogprobs = new List<LogprobStep>?[CandidateCount];
        var finished = 0;
        var reused = 0;
        while (finished < CandidateCount && await events.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            BackendFailed? failure = null;
            while (events.TryRead(out var e))
            {
                switch (e)
                {
                    case GenerationAdmitted:
                        Timeline.Admitted = System.Diagnostics.Stopwatch.GetTimestamp();
                        break;
                    case PromptEvaluated p:
                        reused = p.ReusedTokens;
                        Timeline.PromptEvaluated = System.Diagnostics.Stopwatch.GetTimestamp();
                        Timeline.ReusedPromptTokens = p.ReusedTokens;
                        break;
                    case TextProduced t:
                        texts[t.Candidate].Append(t.Text);
                        break;
                    case LogprobsProduced l:
                        (pendingLogprobs[l.Candidate] ??= []).Add(new LogprobStep(l.Chosen, l.Top));
                        break;
                    case CandidateFinished f:
                        finishes[f.Candidate] = f.Cause is FinishCause.MaxOutputTokens or FinishCause.ContextFull ? FinishReason.MaxTokens : FinishReason.Stop;
                        outputs[f.Candidate] = f.OutputTokens;
                        thoughtTokens[f.Candidate] = f.ThoughtTokens;
                        break;
                    case BackendFailed failed:
                        failure = failed;
                        break;
                }
            }
            if (failure is not null)
                throw new CastorException(failure.ByRequest ? ErrorStatus.InvalidArgument : ErrorStatus.Internal, failure.Message);

            var usage = new Usage(PromptTokenCount, outputs.Sum() - thoughtTokens.Sum(), CachedContentTokenCount: _cachedContentTokens ?? reused, ThoughtsTokenCount: thoughtTokens.Sum())
            {
                PromptTokensDetails = PromptTokensDetails,
            };
            for (var i = 0; i < CandidateCount; i++)
            {
                if (texts[i].Length == 0 && finishes[i] is null) continue;
                var text = texts[i].ToString();
                texts[i].Clear();
                var thought = "";
                if (thinkers is not null)
                {
                    (thought, text) = thinkers[i].Push(text);
                    if (finishes[i] is not null)
                    {
                        var (t, a) = thinkers[i].Flush();
                        thought += t;
                        text += a;
                    }
                    if (!includeThoughts) thought = "";
                }
                var parts = new List<Part>();
                if (splitters is not null)
                {
                    parts.AddRange(splitters[i].Push(text));
                    if (finishes[i] is { } reason)
                    {
                        // A call cut off by the token limit is dropped, and the answer says MAX_TOKENS.
                        parts.AddRange(splitters[i].Finish(cutOff: reason == FinishReason.MaxTokens));
                        if (splitters[i].Malformed) finishes[i] = FinishReason.MalformedFunctionCall;
                    }
                }
                else if (text.Length > 0)
                {
                    parts.Add(new TextPart(text));
                }
                if (parts.Count == 0 && thought.Length == 0 && finishes[i] is null) continue;
                var update = new GenerationUpdate(i, parts, finishes[i], usage, thought, pendingLogprobs[i]);
                pendingLogprobs[i] = null;
                if (finishes[i] is not null)
                {
                    finished++;
                    finishes[i] = null;
                }
                yield return update;
            }
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (finished < CandidateCount)
            throw new CastorException(ErrorStatus.Unavailable, "The server stopped this generation before it finished. Please try again.");
    }
}
