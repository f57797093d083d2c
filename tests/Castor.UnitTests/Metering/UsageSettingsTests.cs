using System.Collections;
using System.Text;
using Castor.Cli;
using Microsoft.Extensions.Configuration;

namespace Castor.UnitTests.Metering;

public sealed class UsageSettingsTests
{
    [Fact]
    public void Configured_prices_add_to_and_override_the_defaults_and_the_flush_interval_binds_from_the_environment()
    {
        var json = """{"Castor": {"Usage": {"Prices": {"qwen3-1.7b": {"InputPerMillion": 0.05, "OutputPerMillion": 0.2}, "gemini-2.5-flash": {"InputPerMillion": 0.5}}}}}""";
        var configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)))
            .AddInMemoryCollection(OptionsLoader.FromEnvironment(new Hashtable { ["CASTOR_USAGE__FLUSH_INTERVAL"] = "00:00:30" }))
            .Build();
        var options = new Castor.Server.CastorOptions();
        configuration.GetSection("Castor").Bind(options);

        Assert.Equal(TimeSpan.FromSeconds(30), options.Usage.FlushInterval);
        Assert.Equal((0.05m, 0.2m, null), (options.Usage.Prices["qwen3-1.7b"].InputPerMillion, options.Usage.Prices["qwen3-1.7b"].OutputPerMillion,
            options.Usage.Prices["qwen3-1.7b"].CachedPerMillion));
        Assert.Equal((0.5m, 2.50m), (options.Usage.Prices["gemini-2.5-flash"].InputPerMillion, options.Usage.Prices["gemini-2.5-flash"].OutputPerMillion));
        Assert.Equal(1.25m, options.Usage.Prices["gemini-2.5-pro"].InputPerMillion);
    }
}
