namespace Castor.Application.Generation;

/// <summary>Server-wide generation settings that are not part of any request.</summary>
public sealed record GenerationOptions
{
    /// <summary>
    /// Lets requests of different projects reuse each other's resident prompt prefixes (<c>Cache:ShareAcrossProjects</c>).
    /// Off by default: with sharing, <c>cachedContentTokenCount</c> and the time to first token tell a caller how much of
    /// its prompt another project sent recently, which is enough to recover that prompt a token at a time. Turn it on
    /// only where every key belongs to one tenant.
    /// </summary>
    public bool SharePrefixesAcrossProjects { get; set; }
}
