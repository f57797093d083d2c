namespace Castor.Application.Metering;

/// <summary>
/// The method the current call is metered under, set by whoever knows it (a protocol adapter's route, the batch worker)
/// around its calls to the generation and embedding services. It is ambient, like <c>Activity.Current</c>, because the
/// method is a fact of the wire that the services' own signatures have no reason to carry, and every adapter would
/// otherwise thread it through calls it does not otherwise touch. Without one, the metering wrappers name the method
/// from the call itself (generateContent, streamGenerateContent, embedContent, batchEmbedContents).
/// </summary>
public static class UsageContext
{
    private static readonly AsyncLocal<UsageOrigin?> CurrentOrigin = new();

    /// <summary>The origin set by the innermost <see cref="Begin"/> still open on this flow, if any.</summary>
    public static UsageOrigin? Current => CurrentOrigin.Value;

    /// <summary>Meters the calls made on this flow until the result is disposed as <paramref name="method"/>.</summary>
    public static IDisposable Begin(string method, bool batch = false)
    {
        var previous = CurrentOrigin.Value;
        CurrentOrigin.Value = new UsageOrigin(method, batch);
        return new Restore(previous);
    }

    private sealed class Restore(UsageOrigin? previous) : IDisposable
    {
        public void Dispose() => CurrentOrigin.Value = previous;
    }
}
