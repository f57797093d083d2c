using System.Text.Json.Nodes;
using Castor.Application.Errors;

namespace Castor.Application.Tools;

/// <summary>A function the model may call: its parameters as a JSON Schema (or the API's Schema), null for none.</summary>
public sealed record FunctionDeclaration(string Name, string? Description, JsonNode? Parameters)
{
    /// <summary>
    /// Where the client declared it, in its own wire's layout (<c>tools[0].functionDeclarations[2]</c> on the Gemini wire,
    /// <c>tools[2].function</c> on OpenAI's): the internal list is flat, so only the adapter knows. Errors about the
    /// declaration name fields under this path.
    /// </summary>
    public FieldPath Path { get; init; } = FieldPath.Of("tools");
}
