using Castor.Storage.Quotas;

namespace Castor.Application.Quotas;

/// <summary>
/// What a request added to its project's counters when it was admitted: kept so everything can be given back when the
/// request is refused before any work, and, for an embedding request, so its token estimate can be corrected with the
/// count the model read.
/// </summary>
/// <param name="Deltas">The counters the request added to (requests and, with a TPM limit, input tokens).</param>
/// <param name="TokenDelta">The TPM counter's share (a generation prompt's real count; an embedding request's estimate); null without a TPM limit.</param>
public sealed record QuotaAdmission(IReadOnlyList<QuotaCounterDelta> Deltas, QuotaCounterDelta? TokenDelta);
