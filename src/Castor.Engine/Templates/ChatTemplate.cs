using System.Text;
using LLama;

namespace Castor.Engine.Templates;

/// <summary>
/// Turns a conversation into the prompt text a model was trained on.
/// Uses the model's own template from its GGUF metadata (or a named llama.cpp template from configuration);
/// models without one get <see cref="TranscriptFallback"/>.
/// </summary>
public abstract class ChatTemplate
{
    public abstract string Name { get; }

    /// <summary>True when the rendered prompt already starts with the BOS text, so tokenization must not add another.</summary>
    public abstract bool RendersBos { get; }

    public abstract string Render(IReadOnlyList<ChatMessage> messages);

    /// <summary>
    /// Picks the template for a model: a configured name wins, then the GGUF's <c>tokenizer.chat_template</c>
    /// when llama.cpp recognises it, otherwise the transcript fallback.
    /// </summary>
    public static ChatTemplate For(LLamaWeights weights, string? configuredName)
    {
        if (!string.IsNullOrWhiteSpace(configuredName))
        {
            if (string.Equals(configuredName, TranscriptFallback.TemplateName, StringComparison.OrdinalIgnoreCase))
                return new TranscriptFallback();
            var named = new LlamaCppTemplate(new LLamaTemplate(configuredName), configuredName);
            named.Validate();
            return named;
        }

        if (weights.Metadata.TryGetValue("tokenizer.chat_template", out var source) && !string.IsNullOrWhiteSpace(source))
        {
            var own = new LlamaCppTemplate(new LLamaTemplate(weights, strict: false), "gguf");
            if (own.TryValidate())
                return own;
        }
        return new TranscriptFallback();
    }

    private sealed class LlamaCppTemplate(LLamaTemplate template, string name) : ChatTemplate
    {
        private readonly object _gate = new();
        private bool? _rendersBos;

        public override string Name => name;

        public override bool RendersBos => _rendersBos ?? false;

        public override string Render(IReadOnlyList<ChatMessage> messages)
        {
            // LLamaTemplate keeps mutable state; renders are short, so a lock is cheaper than a pool.
            lock (_gate)
            {
                template.Clear();
                template.AddAssistant = true;
                foreach (var m in messages)
                    template.Add(m.Role, m.Text);
                return Encoding.UTF8.GetString(template.Apply());
            }
        }

        public void Validate()
        {
            if (!TryValidate())
                throw new InvalidOperationException($"llama.cpp does not know the chat template '{name}'.");
        }

        public bool TryValidate()
        {
            try
            {
                var text = Render([new ChatMessage("user", "x")]);
                _rendersBos = text.StartsWith("<s>", StringComparison.Ordinal) || text.StartsWith("<bos>", StringComparison.Ordinal)
                    || text.StartsWith("<|begin_of_text|>", StringComparison.Ordinal);
                return text.Length > 1;
            }
            catch (Exception)
            {
                return false;
            }
        }
    }
}
