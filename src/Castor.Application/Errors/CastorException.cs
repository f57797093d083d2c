namespace Castor.Application.Errors;

/// <summary>
/// The one error type of the application layer. Services throw it with a status and a message meant for the
/// API user; protocol adapters turn it into their wire's error body. Anything else escaping a request is a bug
/// and becomes a 500.
/// </summary>
public sealed class CastorException : Exception
{
    // Builds the message around a field name, so an adapter can name the field as its wire does (see WithFieldNames).
    private readonly Func<string, string>? _messageFor;

    public CastorException(ErrorStatus status, string message, params ErrorDetail[] details) : base(message)
    {
        Status = status;
        Details = details;
    }

    private CastorException(ErrorStatus status, FieldPath field, Func<string, string> messageFor, string violation)
        : this(status, messageFor(field.ToString()), new FieldViolation(field.ToString(), violation) { Path = field })
    {
        Field = field;
        _messageFor = messageFor;
    }

    public ErrorStatus Status { get; }
    public IReadOnlyList<ErrorDetail> Details { get; }

    /// <summary>The request field the error is about, in the internal model's names; null when it is about no one field.</summary>
    public FieldPath? Field { get; }

    public static CastorException InvalidArgument(string message) => new(ErrorStatus.InvalidArgument, message);

    /// <summary>An invalid request field; the message names it in the internal model's (the Gemini API's camelCase) words until an adapter renames it.</summary>
    public static CastorException InvalidField(FieldPath field, string description) =>
        new(ErrorStatus.InvalidArgument, field, f => $"Invalid value at '{f}': {description}", description);

    /// <summary><see cref="InvalidField(FieldPath, string)"/> for a path written out, e.g. <c>generationConfig.temperature</c>.</summary>
    public static CastorException InvalidField(string field, string description) => InvalidField(FieldPath.Parse(field), description);

    /// <summary>A field Castor knows but cannot honour yet; refusing is better than silently ignoring it.</summary>
    public static CastorException Unsupported(FieldPath field, string what) =>
        new(ErrorStatus.InvalidArgument, field, f => $"{what} is not supported by this Castor server yet (field '{f}').", what + " is not supported yet.");

    /// <inheritdoc cref="Unsupported(FieldPath, string)"/>
    public static CastorException Unsupported(string field, string what) => Unsupported(FieldPath.Parse(field), what);

    /// <summary>An error of any status about one request field (a cache the caller may not use, …); the message names the field.</summary>
    public static CastorException WithField(ErrorStatus status, string field, string description) =>
        new(status, FieldPath.Parse(field), f => $"{description.TrimEnd('.')} (field '{f}').", description);

    public static CastorException NotFound(string message) => new(ErrorStatus.NotFound, message);

    public static CastorException Overloaded() => new(ErrorStatus.Unavailable, "The model is overloaded. Please try again later.");

    /// <summary>
    /// The same error with its field written by <paramref name="render"/> (an adapter's names for the internal model's
    /// fields), in the message and in the field violation; the error itself when it names no field or the name is unchanged.
    /// </summary>
    public CastorException WithFieldNames(Func<FieldPath, string> render)
    {
        if (Field is null || _messageFor is null) return this;
        var name = render(Field);
        if (name == Field.ToString()) return this;
        var renamed = new CastorException(Status, _messageFor(name),
            Details.Select(d => d is FieldViolation v && Equals(v.Path, Field) ? v with { Field = name } : d).ToArray());
        return renamed;
    }
}
