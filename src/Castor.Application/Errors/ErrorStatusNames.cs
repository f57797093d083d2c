namespace Castor.Application.Errors;

/// <summary>The Google RPC status name of an <see cref="ErrorStatus"/> (<c>INVALID_ARGUMENT</c>, …): what the wire's
/// <c>error.status</c> says and what usage rows record.</summary>
public static class ErrorStatusNames
{
    public static string RpcName(this ErrorStatus status) => status switch
    {
        ErrorStatus.InvalidArgument => "INVALID_ARGUMENT",
        ErrorStatus.FailedPrecondition => "FAILED_PRECONDITION",
        ErrorStatus.Unauthenticated => "UNAUTHENTICATED",
        ErrorStatus.PermissionDenied => "PERMISSION_DENIED",
        ErrorStatus.NotFound => "NOT_FOUND",
        ErrorStatus.AlreadyExists => "ALREADY_EXISTS",
        ErrorStatus.ResourceExhausted => "RESOURCE_EXHAUSTED",
        ErrorStatus.Cancelled => "CANCELLED",
        ErrorStatus.Unimplemented => "UNIMPLEMENTED",
        ErrorStatus.Unavailable => "UNAVAILABLE",
        ErrorStatus.DeadlineExceeded => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    };
}
