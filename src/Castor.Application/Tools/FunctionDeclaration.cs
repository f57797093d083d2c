using System.Text.Json.Nodes;

namespace Castor.Application.Tools;

/// <summary>A function the model may call: its parameters as a JSON Schema (or the API's Schema), null for none.</summary>
public sealed record FunctionDeclaration(string Name, string? Description, JsonNode? Parameters);

/// <summary>toolConfig.functionCallingConfig.mode.</summary>
public enum FunctionCallingMode
{
    /// <summary>The model decides between text and calls (the default).</summary>
    Auto,
    /// <summary>The model must call one of the (allowed) functions.</summary>
    Any,
    /// <summary>As if no functions were declared.</summary>
    None,
}

/// <summary>The function-calling setup of one request.</summary>
public sealed record ToolSet(IReadOnlyList<FunctionDeclaration> Functions, FunctionCallingMode Mode, IReadOnlyList<FunctionDeclaration> Callable);
