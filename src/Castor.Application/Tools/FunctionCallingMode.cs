namespace Castor.Application.Tools;

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
