namespace Castor.Application.Errors;

/// <summary>Structured detail attached to an error (google.rpc.* detail messages).</summary>
public abstract record ErrorDetail;

/// <summary>google.rpc.BadRequest with one field violation: the field as the client's wire names it.</summary>
public sealed record FieldViolation(string Field, string Description) : ErrorDetail
{
    /// <summary>The field in the internal model's terms, when the error was raised with one (see <see cref="CastorException.Field"/>).</summary>
    public FieldPath? Path { get; init; }
}

/// <summary>google.rpc.ErrorInfo.</summary>
public sealed record ErrorInfo(string Reason, string Domain, IReadOnlyDictionary<string, string> Metadata) : ErrorDetail;

/// <summary>google.rpc.Help: where the user can read how to fix the problem.</summary>
public sealed record HelpLink(string Description, string Url) : ErrorDetail;

/// <summary>google.rpc.QuotaFailure with one violation: which limit the request ran into.</summary>
public sealed record QuotaViolation(string QuotaMetric, string QuotaId, string Description) : ErrorDetail
{
    /// <summary>quotaDimensions: what the limit is per (the API sends <c>model</c> and <c>location</c>); null when it names none.</summary>
    public IReadOnlyDictionary<string, string>? Dimensions { get; init; }

    /// <summary>quotaValue: the limit that was reached; null when it has no single value.</summary>
    public long? Value { get; init; }
}

/// <summary>google.rpc.RetryInfo: when the client may try again (also sent as the <c>Retry-After</c> header).</summary>
public sealed record RetryDelay(TimeSpan Delay) : ErrorDetail;
