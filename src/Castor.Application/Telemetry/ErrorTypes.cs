using Castor.Application.Errors;

namespace Castor.Application.Telemetry;

/// <summary>The <c>error.type</c> attribute of a failed request: the API's status name (INVALID_ARGUMENT, UNAVAILABLE, …).</summary>
public static class ErrorTypes
{
    private static readonly string[] Names = Enum.GetValues<ErrorStatus>().Select(Snake).ToArray();

    /// <summary>The status name of <paramref name="error"/>: the API's for a <see cref="CastorException"/>, CANCELLED for a cancellation, else the exception's type.</summary>
    public static string Of(Exception error) => error switch
    {
        CastorException api => Of(api.Status),
        OperationCanceledException => "CANCELLED",
        _ => error.GetType().FullName ?? "error",
    };

    /// <summary>ErrorStatus.InvalidArgument → INVALID_ARGUMENT, as the wire spells it.</summary>
    public static string Of(ErrorStatus status) => (int)status < Names.Length ? Names[(int)status] : Snake(status);

    private static string Snake(ErrorStatus status)
    {
        var name = status.ToString();
        var sb = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i])) sb.Append('_');
            sb.Append(char.ToUpperInvariant(name[i]));
        }
        return sb.ToString();
    }
}
