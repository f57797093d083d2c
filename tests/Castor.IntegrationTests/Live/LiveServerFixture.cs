using Castor.Server;

namespace Castor.IntegrationTests.Live;

/// <summary>A server that holds at most two Live sessions, for the session limit and the fuzz run.</summary>
public sealed class LiveServerFixture : CastorServerFixture
{
    public const int MaxSessions = 2;

    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.Live.MaxSessions = MaxSessions;
        return options;
    }
}
