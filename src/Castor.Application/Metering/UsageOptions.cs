namespace Castor.Application.Metering;

/// <summary>The <c>Usage</c> section: how often metered usage is written, and the prices that turn tokens into an estimated cost.</summary>
public sealed class UsageOptions
{
    /// <summary>How often the counts kept in memory are added to the database; a crash loses at most this much usage.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Prices by model name as clients name it (<c>Usage:Prices:{model}:InputPerMillion</c>, <c>OutputPerMillion</c>,
    /// <c>CachedPerMillion</c>). The defaults are the Gemini API's paid-tier prices for its own model names (text, image
    /// and video input; prompts up to 200k tokens), so the report says what the same traffic would cost there; a local
    /// model's name has no price unless one is configured. Batch usage is priced at half, as the API bills it.
    /// </summary>
    public Dictionary<string, ModelPrice> Prices { get; set; } = DefaultPrices();

    /// <summary>The Gemini API's published prices (the seed's pricing page).</summary>
    public static Dictionary<string, ModelPrice> DefaultPrices() => new(StringComparer.OrdinalIgnoreCase)
    {
        ["gemini-2.5-pro"] = Price(1.25m, 10.00m, 0.31m),
        ["gemini-2.5-flash"] = Price(0.30m, 2.50m, 0.075m),
        ["gemini-2.5-flash-preview-09-2025"] = Price(0.30m, 2.50m, 0.075m),
        ["gemini-2.5-flash-lite"] = Price(0.10m, 0.40m, 0.025m),
        ["gemini-2.5-flash-lite-preview-09-2025"] = Price(0.10m, 0.40m, 0.025m),
        ["gemini-2.0-flash"] = Price(0.10m, 0.40m, 0.025m),
        ["gemini-2.0-flash-lite"] = Price(0.075m, 0.30m, null),
        ["gemini-embedding-001"] = Price(0.15m, 0m, null),
    };

    private static ModelPrice Price(decimal input, decimal output, decimal? cached) =>
        new() { InputPerMillion = input, OutputPerMillion = output, CachedPerMillion = cached };
}
