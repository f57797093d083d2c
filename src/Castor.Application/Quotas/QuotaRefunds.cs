using Castor.Application.Errors;

namespace Castor.Application.Quotas;

/// <summary>
/// Which failed requests count against a project's quota. The API's billing FAQ: "If your request fails with a 400 or
/// 500 error, you won't be charged for the tokens used. However, the request will still count against your quota."
/// So an invalid request (400) or a server failure (500) is a request against RPM and RPD (its tokens count against
/// TPM only where they were already counted, once the prompt was prepared), while a request refused because it may not
/// run at all (unknown model or resource, no permission, itself over a limit, the server overloaded or draining) is not a
/// use and gives back whatever it counted.
/// </summary>
internal static class QuotaRefunds
{
    /// <summary>A request refused before any work that is not a use of the quota: it counts nothing.</summary>
    public static bool NotAUse(CastorException error) => error.Status is ErrorStatus.NotFound or ErrorStatus.PermissionDenied
        or ErrorStatus.ResourceExhausted or ErrorStatus.Unavailable;

    /// <summary>A failed request that still counts against the quota (a 400 or a 500), unless the client went away.</summary>
    public static bool CountsAsUse(Exception error) => error switch
    {
        CastorException castor => !NotAUse(castor),
        OperationCanceledException => false,
        _ => true,
    };
}
