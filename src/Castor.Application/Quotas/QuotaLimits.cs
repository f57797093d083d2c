namespace Castor.Application.Quotas;

/// <summary>
/// One tier's limits for one model (<c>Quotas:Tiers:{tier}:{model or *}</c>), as the API's rate-limit table lists them.
/// A limit left out (or 0) is not enforced.
/// </summary>
public sealed class QuotaLimits
{
    /// <summary>Requests per minute.</summary>
    public long Rpm { get; set; }

    /// <summary>Input tokens per minute (prompt tokens, as the API counts them; the answer's tokens do not count).</summary>
    public long Tpm { get; set; }

    /// <summary>Requests per day; the day starts at midnight Pacific time, as the API's does.</summary>
    public long Rpd { get; set; }

    /// <summary>Tokens that may be enqueued in batch jobs not yet finished, for this model (the API's Batch Enqueued Tokens).</summary>
    public long BatchEnqueuedTokens { get; set; }

    /// <summary>
    /// Concurrent Live sessions of the project on this model (the API limits Live models by sessions): one more is
    /// refused at setup. Counted across every node sharing the database.
    /// </summary>
    public int Sessions { get; set; }

    /// <summary>Whether any online limit (RPM, TPM, RPD) applies.</summary>
    public bool LimitsRequests => Rpm > 0 || Tpm > 0 || Rpd > 0;
}
