namespace Castor.Application.Tools;

/// <summary>
/// Whether and which functions the model may or must call: the Gemini API's <c>toolConfig.functionCallingConfig</c>,
/// OpenAI's <c>tool_choice</c> (as <c>ChatToolMode</c> is in Microsoft.Extensions.AI). Null on a request means <see cref="Auto"/>.
/// </summary>
/// <param name="AllowedFunctionNames">With <see cref="FunctionCallingMode.Any"/>, the functions the model may choose from; null or empty for all.</param>
public sealed record ToolChoice(FunctionCallingMode Mode, IReadOnlyList<string>? AllowedFunctionNames = null)
{
    /// <summary>The model decides between text and calls.</summary>
    public static ToolChoice Auto { get; } = new(FunctionCallingMode.Auto);

    /// <summary>The model answers in text, as if no functions were declared.</summary>
    public static ToolChoice None { get; } = new(FunctionCallingMode.None);

    /// <summary>The model must call a function: any declared one, or one of <paramref name="allowedFunctionNames"/>.</summary>
    public static ToolChoice RequireAny(IReadOnlyList<string>? allowedFunctionNames = null) => new(FunctionCallingMode.Any, allowedFunctionNames);

    // Records compare lists by reference; two choices are the same when they allow the same names in the same order.
    public bool Equals(ToolChoice? other) =>
        other is not null && Mode == other.Mode &&
        (AllowedFunctionNames ?? []).SequenceEqual(other.AllowedFunctionNames ?? [], StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Mode, AllowedFunctionNames?.Count ?? 0);
}
