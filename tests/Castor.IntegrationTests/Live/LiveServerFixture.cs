using Castor.Server;

namespace Castor.IntegrationTests.Live;

/// <summary>A server that holds at most two Live sessions of at most 4 seconds each, for the limits and the fuzz run.</summary>
public sealed class LiveServerFixture : CastorServerFixture
{
    public const int MaxSessions = 2;
    public static readonly TimeSpan MaxSessionDuration = TimeSpan.FromSeconds(4);

    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.Live.MaxSessions = MaxSessions;
        options.Live.MaxSessionDuration = MaxSessionDuration;
        return options;
    }
}
