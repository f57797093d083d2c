namespace Castor.Application.Backends;

/// <summary>One chat-template message: <see cref="Role"/> is the template's (<c>system</c>, <c>user</c>, <c>assistant</c>), not the API's.</summary>
public sealed record PromptMessage(string Role, string Text);
