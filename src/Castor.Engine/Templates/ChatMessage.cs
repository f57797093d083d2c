using Castor.Engine.Media;

namespace Castor.Engine.Templates;

/// <summary>
/// One turn of a conversation as the chat template sees it: role is "system", "user" or "assistant".
/// <see cref="Media"/>: images and audio clips placed in <see cref="Text"/>, in order of their offsets.
/// </summary>
public sealed record ChatMessage(string Role, string Text, IReadOnlyList<PromptMedia>? Media = null);
