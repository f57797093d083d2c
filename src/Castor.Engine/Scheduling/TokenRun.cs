namespace Castor.Engine.Scheduling;

/// <summary>A run of text tokens of a prompt, one KV position each.</summary>
public sealed record TokenRun(IReadOnlyList<int> Tokens) : PromptChunk
{
    public override int Length => Tokens.Count;
}
