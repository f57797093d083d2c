using Castor.Server;

namespace Castor.IntegrationTests.Robustness;

/// <summary>
/// A Castor of its own for the robustness tests, so a thousand hostile requests never queue behind (or in front of)
/// the other suites. A 96-token context bounds any generation that a mutated body still manages to start.
/// </summary>
public sealed class RobustnessServerFixture : CastorServerFixture
{
    public const int ContextSize = 96;

    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.ContextSize = ContextSize;
        return options;
    }
}
