using Castor.Application.Errors;

namespace Castor.Application.Generation;

/// <summary>
/// The Gemini API's names for <see cref="ThinkingLevel"/> (<c>MINIMAL</c> … <c>HIGH</c>), which the native wire sends and
/// the OpenAI wire's <c>extra_body.google.thinking_config</c> sends too.
/// </summary>
public static class ThinkingLevelNames
{
    /// <summary>The level a name stands for; null for unset (null, empty or <c>THINKING_LEVEL_UNSPECIFIED</c>).</summary>
    /// <param name="field">Where the name was sent, for the error when it names no level.</param>
    public static ThinkingLevel? Parse(string? name, FieldPath field) => name switch
    {
        null or "" or "THINKING_LEVEL_UNSPECIFIED" => null,
        "MINIMAL" => ThinkingLevel.Minimal,
        "LOW" => ThinkingLevel.Low,
        "MEDIUM" => ThinkingLevel.Medium,
        "HIGH" => ThinkingLevel.High,
        _ => throw CastorException.InvalidField(field, $"'{name}' is not a thinking level; use MINIMAL, LOW, MEDIUM or HIGH."),
    };
}
