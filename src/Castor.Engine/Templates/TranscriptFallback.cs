using System.Text;

namespace Castor.Engine.Templates;

/// <summary>
/// The documented format for models whose GGUF has no chat template (base and story models such as stories260K).
/// A single user turn with no system instruction is passed through unchanged, so a base model simply continues
/// the text, the way a completion API would. Anything richer becomes a plain transcript:
/// <code>
/// {system instruction}
///
/// User: {text}
///
/// Model: {text}
///
/// User: {text}
///
/// Model:
/// </code>
/// </summary>
public sealed class TranscriptFallback : ChatTemplate
{
    public const string TemplateName = "transcript";

    public override string Name => TemplateName;

    public override bool RendersBos => false;

    public override string Render(IReadOnlyList<ChatMessage> messages)
    {
        if (messages.Count == 1 && messages[0].Role == "user")
            return messages[0].Text;

        var sb = new StringBuilder();
        foreach (var m in messages)
        {
            if (sb.Length > 0) sb.Append("\n\n");
            switch (m.Role)
            {
                case "system": sb.Append(m.Text); break;
                case "assistant": sb.Append("Model: ").Append(m.Text); break;
                default: sb.Append("User: ").Append(m.Text); break;
            }
        }
        sb.Append("\n\nModel:");
        return sb.ToString();
    }
}
