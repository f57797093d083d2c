using Castor.Application.Errors;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.Hosting;

/// <summary>
/// The canonical mapping of an error status (google.rpc.Code) to HTTP and to its name, as Google's APIs use it. Both
/// wires start from it; a wire may answer some errors differently (OpenAI clients expect 401 for a bad key).
/// </summary>
public static class ErrorHttp
{
    public static int StatusCode(ErrorStatus status) => status switch
    {
        ErrorStatus.InvalidArgument or ErrorStatus.FailedPrecondition => StatusCodes.Status400BadRequest,
        ErrorStatus.Unauthenticated => StatusCodes.Status401Unauthorized,
        ErrorStatus.PermissionDenied => StatusCodes.Status403Forbidden,
        ErrorStatus.NotFound => StatusCodes.Status404NotFound,
        ErrorStatus.AlreadyExists => StatusCodes.Status409Conflict,
        ErrorStatus.ResourceExhausted => StatusCodes.Status429TooManyRequests,
        ErrorStatus.Cancelled => 499,
        ErrorStatus.Unimplemented => StatusCodes.Status501NotImplemented,
        ErrorStatus.Unavailable => StatusCodes.Status503ServiceUnavailable,
        ErrorStatus.DeadlineExceeded => StatusCodes.Status504GatewayTimeout,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static string StatusName(ErrorStatus status) => status.RpcName();
}
