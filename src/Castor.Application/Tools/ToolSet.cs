namespace Castor.Application.Tools;

/// <summary>The function-calling setup of one request, validated: all declared functions, the mode, and those the model may call.</summary>
public sealed record ToolSet(IReadOnlyList<FunctionDeclaration> Functions, FunctionCallingMode Mode, IReadOnlyList<FunctionDeclaration> Callable);
