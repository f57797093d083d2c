namespace Castor.Application.Generation;

/// <summary>
/// thinkingConfig.thinkingLevel: how much a thinking model may think, in the API's four steps. Unset (null) lets the
/// model think as long as it likes. OpenAI's <c>reasoning_effort</c> names the same steps.
/// </summary>
public enum ThinkingLevel
{
    /// <summary>Answer directly.</summary>
    Minimal,
    Low,
    Medium,
    High,
}
