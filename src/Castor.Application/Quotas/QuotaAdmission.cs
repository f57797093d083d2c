using Castor.Storage.Quotas;

namespace Castor.Application.Quotas;

/// <summary>
/// What a request added to its project's counters when it was admitted, kept so everything can be given back when the
/// request is refused before any work (an invalid request is not a use).
/// </summary>
/// <param name="Deltas">The counters the request added to (requests and, with a TPM limit, its real input tokens).</param>
public sealed record QuotaAdmission(IReadOnlyList<QuotaCounterDelta> Deltas);
