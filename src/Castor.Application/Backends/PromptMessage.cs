using Castor.Engine.Media;

namespace Castor.Application.Backends;

/// <summary>
/// One chat-template message: <see cref="Role"/> is the template's (<c>system</c>, <c>user</c>, <c>assistant</c>), not
/// the API's. <see cref="Media"/>: decoded images and audio placed in <see cref="Text"/> at their offsets.
/// </summary>
public sealed record PromptMessage(string Role, string Text, IReadOnlyList<PromptMedia>? Media = null);
