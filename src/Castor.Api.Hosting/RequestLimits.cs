namespace Castor.Api.Hosting;

public static class RequestLimits
{
    /// <summary>The API's limit on a whole request (text, system instruction and inline bytes): 20 MB.</summary>
    public const long MaxBodyBytes = 20 * 1024 * 1024;
}
