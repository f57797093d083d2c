namespace Castor.Application.Errors;

/// <summary>Google RPC status codes Castor answers with; adapters map them to HTTP and to each wire's error shape.</summary>
public enum ErrorStatus
{
    InvalidArgument,
    FailedPrecondition,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    AlreadyExists,
    ResourceExhausted,
    Cancelled,
    Unimplemented,
    Internal,
    Unavailable,
    DeadlineExceeded,
}
