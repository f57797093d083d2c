namespace Castor.Application.Models;

/// <summary>A thinking model's thought markers (<c>ModelSettings:{id}:Thinking</c>).</summary>
public sealed class ThinkingSettings
{
    public string Start { get; set; } = "<think>";
    public string End { get; set; } = "</think>";

    /// <summary>True when the chat template itself opens the thought, so output begins inside it.</summary>
    public bool StartsInThought { get; set; }
}
