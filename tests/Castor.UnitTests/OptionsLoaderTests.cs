using System.Collections;
using Castor.Cli;

namespace Castor.UnitTests;

public sealed class OptionsLoaderTests
{
    [Fact]
    public void Castor_environment_variables_map_to_the_castor_section()
    {
        var map = OptionsLoader.FromEnvironment(new Hashtable
        {
            ["CASTOR_CONTEXT_SIZE"] = "4096",
            ["CASTOR_DATA"] = "/var/lib/castor",
            ["CASTOR_API_KEY"] = "k",
            ["CASTOR_ALIASES__FAST"] = "stories260k",
            ["CASTOR_MODELS"] = "/a:/b",
            ["CASTOR_TEST_MODELS"] = "/x",
            ["PATH"] = "/usr/bin",
        });
        Assert.Equal("4096", map["Castor:ContextSize"]);
        Assert.Equal("/var/lib/castor", map["Castor:Data"]);
        Assert.Equal("k", map["Castor:ApiKey"]);
        Assert.Equal("stories260k", map["Castor:Aliases:Fast"]);
        Assert.Equal(4, map.Count);
    }
}
