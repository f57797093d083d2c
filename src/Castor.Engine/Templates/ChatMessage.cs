namespace Castor.Engine.Templates;

/// <summary>One turn of a conversation as the chat template sees it: role is "system", "user" or "assistant".</summary>
public sealed record ChatMessage(string Role, string Text);
