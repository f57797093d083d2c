using Castor.Api.Gemini.Live;
using Castor.Api.Gemini.Wire;
using Castor.Application.Errors;

namespace Castor.UnitTests.Live;

public sealed class LiveSetupLockTests
{
    private static LiveSetup Client() => new()
    {
        Model = "models/client-model",
        GenerationConfig = new GenerationConfig { Temperature = 0.1, MaxOutputTokens = 40 },
    };

    [Fact]
    public void No_setup_and_no_mask_keeps_the_clients_setup()
    {
        var client = Client();
        Assert.Same(client, LiveSetupLock.From(null, null).Apply(client));
    }

    [Fact]
    public void A_setup_without_a_mask_replaces_the_clients_whole()
    {
        var applied = LiveSetupLock.From("""{"model":"models/token-model"}""", null).Apply(Client());
        Assert.Equal("models/token-model", applied.Model);
        Assert.Null(applied.GenerationConfig);
    }

    [Fact]
    public void Masked_fields_take_the_tokens_values_and_others_stay_the_clients()
    {
        var applied = LiveSetupLock.From("""{"model":"models/token-model","generationConfig":{"temperature":0.7,"maxOutputTokens":2}}""",
            "model,generation_config.temperature").Apply(Client());
        Assert.Equal("models/token-model", applied.Model);
        Assert.Equal(0.7, applied.GenerationConfig!.Temperature);
        Assert.Equal(40, applied.GenerationConfig.MaxOutputTokens);
    }

    [Fact]
    public void A_masked_field_the_tokens_setup_lacks_is_cleared()
    {
        var applied = LiveSetupLock.From("""{"model":"models/token-model"}""", "generationConfig.temperature").Apply(Client());
        Assert.Null(applied.GenerationConfig!.Temperature);
        Assert.Equal("models/client-model", applied.Model);
    }

    [Fact]
    public void The_mask_is_read_as_distinct_camelCase_paths()
    {
        Assert.Equal(["model", "generationConfig.temperature"], LiveSetupLock.ParseMask("model, generation_config.temperature,generationConfig.temperature"));
        Assert.Throws<CastorException>(() => LiveSetupLock.ParseMask("generationConfig..temperature"));
    }
}
