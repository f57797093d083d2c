namespace Castor.Engine.Grammars;

/// <summary>
/// A GBNF grammar that output must follow. A lazy grammar lets the model write freely until one of
/// <see cref="TriggerPatterns"/> (regexes over the generated text) matches; from there on the grammar holds,
/// starting from the matched text (how "the model may answer in text or start a tool call" is enforced).
/// </summary>
public sealed record GrammarConstraint(string Gbnf, string Root = "root", IReadOnlyList<string>? TriggerPatterns = null)
{
    public bool IsLazy => TriggerPatterns is { Count: > 0 };
}
