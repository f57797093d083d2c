namespace Castor.Application.Backends;

/// <summary>The backend cannot enforce the request's grammar; the generation rules name the request field it came from.</summary>
public sealed class GrammarRejectedException(string message, Exception? inner = null) : Exception(message, inner);
