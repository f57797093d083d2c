using System.Text;
using System.Threading.Channels;
using Castor.Engine.Scheduling;
using Castor.Engine.Templates;
using LLama;
using LLama.Common;
using LLama.Native;
using Microsoft.Extensions.Logging;

namespace Castor.Engine.Models;

/// <summary>
/// A GGUF model loaded once (memory-mapped weights) with one llama context whose sequences are driven by a
/// <see cref="SequenceScheduler"/>. Tokenizing reads only the vocabulary, so it runs on the caller's thread.
/// </summary>
public sealed class LlamaModel : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly SequenceScheduler _scheduler;
    private readonly bool _parseSpecialTokens;

    private LlamaModel(ModelSpec spec, LLamaWeights weights, LLamaContext context, SequenceScheduler scheduler, ChatTemplate template, int contextPerSequence,
        bool? flashAttention)
    {
        FlashAttentionSetting = flashAttention;
        Spec = spec;
        _weights = weights;
        _context = context;
        _scheduler = scheduler;
        Template = template;
        ContextSize = contextPerSequence;
        // Template markup such as <|im_start|> must become control tokens; the plain transcript has none.
        _parseSpecialTokens = template is not TranscriptFallback;
        Metadata = weights.Metadata;
        // Templates of thinking models (Qwen3, DeepSeek-R1, …) mention their thought markers.
        Thinking = spec.Thinking ?? (Metadata.GetValueOrDefault("tokenizer.chat_template")?.Contains("<think>", StringComparison.Ordinal) == true
            ? new ThinkingMarkers("<think>", "</think>")
            : null);
    }

    /// <summary>The model's thought markers, when it is a thinking model.</summary>
    public ThinkingMarkers? Thinking { get; }

    public ModelSpec Spec { get; }
    public string Id => Spec.Id;
    public ChatTemplate Template { get; }

    /// <summary>Tokens one request may use, prompt and output together.</summary>
    public int ContextSize { get; }

    /// <summary>Sequences decoded together (requests or candidates in flight at once).</summary>
    public int Parallel => _scheduler.Options.Parallel;

    /// <summary>Flash attention as passed to llama.cpp: on, off, or null for llama.cpp's auto.</summary>
    public bool? FlashAttentionSetting { get; }

    /// <summary>CPU threads llama.cpp uses for single-token steps (<see cref="CpuThreads"/>).</summary>
    public int DecodeThreads => _context.GenerationThreads;

    /// <summary>CPU threads llama.cpp uses for multi-token steps (prompts, several sequences).</summary>
    public int BatchThreads => _context.BatchThreads;

    /// <summary>Cells of the KV cache, all streams together: room for every sequence to fill its own window at once.</summary>
    public int KvCells => (int)_context.ContextSize;
    public int TrainingContextSize => _weights.ContextSize;
    public ulong ParameterCount => _weights.ParameterCount;
    public ulong SizeInBytes => _weights.SizeInBytes;
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public string Architecture => Metadata.GetValueOrDefault("general.architecture") ?? "unknown";
    public string DisplayName => Spec.DisplayName ?? Metadata.GetValueOrDefault("general.name") ?? Spec.Id;
    public SequenceScheduler Scheduler => _scheduler;

    public static LlamaModel Load(ModelSpec spec, EngineOptions options, ILogger logger)
    {
        var threads = options.Threads > 0 ? options.Threads : CpuThreads.DefaultDecode();
        var batchThreads = options.BatchThreads > 0 ? options.BatchThreads : options.Threads > 0 ? options.Threads : CpuThreads.DefaultBatch();

        var parameters = new ModelParams(spec.Path)
        {
            // One KV stream per sequence, not one cache shared by all: attention over a unified cache walks every
            // resident cell, so the prompts idle slots keep for reuse slowed every live stream (one stream at parallel 8
            // with 7 idle ~1,000-token prefixes ran at 0.65 of parallel 1). With a stream each, a sequence attends to its
            // own cells only; a prefix is reused in place, or copied from another slot as a whole stream and cut
            // (PrefixCache.CopyPrefix), which costs a copy of the cells instead of sharing them.
            KVUnified = false,
            BatchSize = (uint)Math.Max(32, options.BatchSize),
            UBatchSize = (uint)Math.Max(32, options.BatchSize),
            Threads = threads,
            BatchThreads = batchThreads,
            GpuLayerCount = options.GpuLayers,
            LoadMode = LLamaLoadMode.MemoryMap,
        };

        var weights = LLamaWeights.LoadFromFile(parameters);
        try
        {
            // A context setting, decided once the weights' metadata (the head size) is known.
            parameters.FlashAttention = FlashAttention.Resolve(spec.FlashAttention ?? options.FlashAttention, options.GpuLayers,
                FlashAttention.HeadSize(weights.Metadata));
            // The default window follows the model's training context, which is known once the weights are mapped.
            var perSequence = spec.ContextSize ?? (options.ContextSize > 0 ? options.ContextSize : Math.Min(weights.ContextSize, EngineOptions.DefaultContextCap));
            if (perSequence < 16)
                throw new InvalidOperationException($"Context size {perSequence} is too small for model '{spec.Id}'; use at least 16.");
            var parallel = options.Parallel > 0 ? options.Parallel : EngineOptions.DefaultParallel(perSequence);
            // Every slot may fill its own window, so the shared cache has room for all of them at once.
            parameters.ContextSize = (uint)(perSequence * parallel);
            parameters.SeqMax = (uint)parallel;
            var template = ChatTemplate.For(weights, spec.ChatTemplate);
            var context = weights.CreateContext(parameters, logger);
            var scheduler = new SequenceScheduler(spec.Id, weights, context,
                new SchedulerOptions(parallel, perSequence, (int)parameters.BatchSize, options.MaxQueue) { GrammarStepTimeout = options.GrammarStepTimeout }, logger);
            return new LlamaModel(spec, weights, context, scheduler, template, perSequence, parameters.FlashAttention);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>Renders a conversation with the model's chat template and tokenizes it, BOS included where the model wants one.</summary>
    public int[] TokenizePrompt(IReadOnlyList<ChatMessage> messages)
    {
        var text = Template.Render(messages);
        var addBos = _weights.Vocab.ShouldAddBOS && !Template.RendersBos;
        var tokens = _weights.NativeHandle.Tokenize(text, addBos, _parseSpecialTokens, Encoding.UTF8);
        var result = new int[tokens.Length];
        for (var i = 0; i < tokens.Length; i++) result[i] = (int)tokens[i];
        return result;
    }

    /// <summary>Tokens of a marker such as <c>&lt;/think&gt;</c> (special tokens recognised).</summary>
    public int[] TokenizeMarker(string text) =>
        _weights.NativeHandle.Tokenize(text, false, true, Encoding.UTF8).Select(t => (int)t).ToArray();

    /// <summary>Counts the tokens of plain text (no template, no BOS).</summary>
    public int CountTokens(string text) =>
        text.Length == 0 ? 0 : _weights.NativeHandle.Tokenize(text, false, false, Encoding.UTF8).Length;

    public ChannelReader<EngineEvent> Generate(EngineRequest request, CancellationToken cancellationToken) =>
        _scheduler.Submit(request, cancellationToken);

    public void Dispose()
    {
        _scheduler.Dispose();
        _context.Dispose();
        _weights.Dispose();
    }
}
