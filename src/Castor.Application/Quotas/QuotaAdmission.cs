using Castor.Storage.Quotas;

namespace Castor.Application.Quotas;

/// <summary>
/// What a request added to its project's counters when it was admitted: kept so the token estimate can be corrected
/// with the real count, or everything given back when the request is refused before any work.
/// </summary>
/// <param name="Deltas">The counters the request added to (requests and, with a TPM limit, estimated tokens).</param>
/// <param name="TokenDelta">The TPM counter's share, whose amount is the estimate; null without a TPM limit.</param>
public sealed record QuotaAdmission(IReadOnlyList<QuotaCounterDelta> Deltas, QuotaCounterDelta? TokenDelta);
