namespace Castor.Application.Errors;

/// <summary>
/// The one error type of the application layer. Services throw it with a status and a message meant for the
/// API user; protocol adapters turn it into their wire's error body. Anything else escaping a request is a bug
/// and becomes a 500.
/// </summary>
public sealed class CastorException : Exception
{
    public CastorException(ErrorStatus status, string message, params ErrorDetail[] details) : base(message)
    {
        Status = status;
        Details = details;
    }

    public ErrorStatus Status { get; }
    public IReadOnlyList<ErrorDetail> Details { get; }

    public static CastorException InvalidArgument(string message) => new(ErrorStatus.InvalidArgument, message);

    /// <summary>An invalid request field; <paramref name="field"/> uses the wire's camelCase path, e.g. <c>generationConfig.temperature</c>.</summary>
    public static CastorException InvalidField(string field, string description) =>
        new(ErrorStatus.InvalidArgument, $"Invalid value at '{field}': {description}", new FieldViolation(field, description));

    /// <summary>A field Castor knows but cannot honour yet; refusing is better than silently ignoring it.</summary>
    public static CastorException Unsupported(string field, string what) =>
        new(ErrorStatus.InvalidArgument, $"{what} is not supported by this Castor server yet (field '{field}').", new FieldViolation(field, what + " is not supported yet."));

    public static CastorException NotFound(string message) => new(ErrorStatus.NotFound, message);

    public static CastorException Overloaded() => new(ErrorStatus.Unavailable, "The model is overloaded. Please try again later.");
}
