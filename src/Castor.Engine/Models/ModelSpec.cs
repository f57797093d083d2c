namespace Castor.Engine.Models;

/// <summary>
/// A GGUF file to load, with what configuration says about it. <see cref="Projector"/>: the multimodal projector
/// (<c>mmproj</c> GGUF) that lets the model take images or audio.
/// </summary>
public sealed record ModelSpec(string Id, string Path, string? ChatTemplate = null, int? ContextSize = null, string? DisplayName = null,
    ThinkingMarkers? Thinking = null, FlashAttentionMode? FlashAttention = null, string? Projector = null);

/// <summary>
/// How a model marks its thoughts (e.g. <c>&lt;think&gt;</c> … <c>&lt;/think&gt;</c>). <see cref="StartsInThought"/>:
/// the chat template opens the thought itself (DeepSeek-R1, Qwen3 with thinking on), so output begins inside it.
/// </summary>
public sealed record ThinkingMarkers(string Start, string End, bool StartsInThought = false);
