using Castor.Application.Errors;

namespace Castor.Application.Quotas;

/// <summary>When a counted request is given back, and how corrections run off the request's path.</summary>
internal static class QuotaRefunds
{
    /// <summary>A request the service refused before doing any work (invalid, unknown, not allowed): it is not a use, so it does not count.</summary>
    public static bool RefusedBeforeWork(CastorException error) => error.Status is ErrorStatus.InvalidArgument or ErrorStatus.NotFound
        or ErrorStatus.FailedPrecondition or ErrorStatus.PermissionDenied or ErrorStatus.ResourceExhausted or ErrorStatus.Unavailable;

    /// <summary>Runs a counter correction without making the client wait for it; a failed correction only leaves the estimate in place.</summary>
    public static void InBackground(Task correction)
    {
        if (correction.IsCompleted) return;
        _ = correction.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }
}
