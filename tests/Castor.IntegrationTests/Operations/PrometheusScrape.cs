using System.Globalization;
using System.Net;

namespace Castor.IntegrationTests.Operations;

/// <summary>Reads samples out of a server's <c>/metrics</c> (Prometheus text exposition format).</summary>
public static class PrometheusScrape
{
    public static async Task<string> ReadAsync(CastorServerFixture server)
    {
        using var anonymous = server.CreateClient(apiKey: null);
        using var response = await anonymous.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The value of the first sample named <paramref name="name"/> whose labels include every one of <paramref name="labels"/>.</summary>
    public static double? Sample(string scrape, string name, params string[] labels) => Find(scrape, name, labels, without: null);

    /// <summary>
    /// As <see cref="Sample"/>, for the series without a <paramref name="without"/> label (a request that succeeded has no
    /// error_type, and its series must not be confused with a failed one's).
    /// </summary>
    public static double? SampleWithout(string scrape, string name, string without, params string[] labels) => Find(scrape, name, labels, without);

    private static double? Find(string scrape, string name, string[] labels, string? without)
    {
        foreach (var line in scrape.Split('\n'))
        {
            if (!line.StartsWith(name + "{", StringComparison.Ordinal)) continue;
            var close = line.LastIndexOf('}');
            var labelText = line[(name.Length + 1)..close];
            if (without is not null && labelText.Contains(without + "=\"", StringComparison.Ordinal)) continue;
            if (labels.All(l => labelText.Contains(l, StringComparison.Ordinal)))
                return double.Parse(line[(close + 1)..].Trim(), CultureInfo.InvariantCulture);
        }
        return null;
    }
}
