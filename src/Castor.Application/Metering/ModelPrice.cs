namespace Castor.Application.Metering;

/// <summary>
/// A model's price in US dollars per million tokens, for the usage report's estimated cost: input (prompt tokens not
/// served from a cache), output (candidates and thoughts, as the API bills thinking), and cached input
/// (<c>cachedContentTokenCount</c>; the input price when unset).
/// </summary>
public sealed class ModelPrice
{
    public decimal InputPerMillion { get; set; }
    public decimal OutputPerMillion { get; set; }
    public decimal? CachedPerMillion { get; set; }
}
