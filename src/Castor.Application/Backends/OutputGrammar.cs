namespace Castor.Application.Backends;

/// <summary>
/// A GBNF grammar the output must follow. With <see cref="TriggerPatterns"/> it is lazy: free text until a pattern
/// matches (a tool call opening), constrained from there.
/// </summary>
public sealed record OutputGrammar(string Gbnf, string Root = "root", IReadOnlyList<string>? TriggerPatterns = null)
{
    public bool IsLazy => TriggerPatterns is { Count: > 0 };
}
