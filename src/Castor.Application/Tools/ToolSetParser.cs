using System.Text.RegularExpressions;
using Castor.Application.Errors;

namespace Castor.Application.Tools;

/// <summary>
/// Validates the declared functions and the tool choice as the API defines them. Reading the wire (which tools exist,
/// snake_case or camelCase, JSON shapes) is each adapter's work; the rules about names and modes are here, once.
/// </summary>
internal static partial class ToolSetParser
{
    private static readonly FieldPath FunctionCallingConfig = FieldPath.Of("toolConfig").Field("functionCallingConfig");

    public static ToolSet? Parse(IReadOnlyList<FunctionDeclaration>? functions, ToolChoice? choice)
    {
        functions ??= [];
        foreach (var f in functions)
            if (!FunctionName().IsMatch(f.Name))
                throw CastorException.InvalidField(f.Path.Field("name"), $"'{f.Name}' is not a valid function name: use a-z, A-Z, 0-9, underscores, dots, colons and dashes, at most 64 characters, starting with a letter or underscore.");

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in functions)
            if (!names.Add(f.Name))
                throw CastorException.InvalidField(FieldPath.Of("tools"), $"the function '{f.Name}' is declared more than once.");

        var mode = choice?.Mode ?? FunctionCallingMode.Auto;
        var allowed = choice?.AllowedFunctionNames;
        if (functions.Count == 0)
        {
            if (allowed is { Count: > 0 } || mode == FunctionCallingMode.Any)
                throw CastorException.InvalidField(FunctionCallingConfig, "function calling is configured but no functions are declared in tools.");
            return null;
        }
        if (allowed is { Count: > 0 } && mode != FunctionCallingMode.Any)
            throw CastorException.InvalidField(FunctionCallingConfig.Field("allowedFunctionNames"), "allowedFunctionNames can only be set when mode is ANY.");
        var callable = functions;
        if (allowed is { Count: > 0 })
        {
            foreach (var name in allowed)
                if (!names.Contains(name))
                    throw CastorException.InvalidField(FunctionCallingConfig.Field("allowedFunctionNames"), $"'{name}' is not a declared function.");
            callable = functions.Where(f => allowed.Contains(f.Name)).ToList();
        }
        return new ToolSet(functions, mode, callable);
    }

    // \z, not $: $ also matches before a final newline.
    [GeneratedRegex(@"\A[A-Za-z_][A-Za-z0-9_.:-]{0,63}\z")]
    private static partial Regex FunctionName();
}
