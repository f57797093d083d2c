using Castor.Server;

namespace Castor.IntegrationTests.Live;

/// <summary>
/// A server with a 128-token context, so a few Live turns fill it, and resumption handles that expire at once, so
/// every handle is expired by the time a client presents it.
/// </summary>
public sealed class SmallContextLiveFixture : CastorServerFixture
{
    public const int ContextSize = 128;

    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.ContextSize = ContextSize;
        options.Live.ResumptionHandleLifetime = TimeSpan.FromTicks(1);
        return options;
    }
}
