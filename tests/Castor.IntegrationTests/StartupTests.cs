using Castor.Server;

namespace Castor.IntegrationTests;

public sealed class NoModelServerFixture : CastorServerFixture
{
    public string EmptyModels { get; } = Directory.CreateTempSubdirectory("castor-empty-models").FullName;

    protected override CastorOptions CreateOptions() => new()
    {
        Urls = "http://127.0.0.1:0",
        Models = [EmptyModels],
        Data = DataFolder,
        Threads = 2,
        ApiKey = null,
    };
}

/// <summary>A fresh install: no model, no key. It must still start and tell the user what to do.</summary>
public sealed class StartupTests(NoModelServerFixture server) : IClassFixture<NoModelServerFixture>
{
    [Fact]
    public void The_banner_says_where_it_listens_where_data_lives_and_how_to_add_models_and_keys()
    {
        var banner = server.Console.ToString();
        Assert.Contains("Listening on  " + server.BaseAddress.ToString().TrimEnd('/'), banner);
        Assert.Contains(Path.GetFullPath(server.DataFolder), banner);
        Assert.Contains("none found in " + server.EmptyModels, banner);
        Assert.Contains("--models", banner);
        Assert.Contains("castor keys create", banner);
    }

    [Fact]
    public async Task A_short_CASTOR_API_KEY_stops_the_start_with_how_to_make_a_good_one()
    {
        var data = Directory.CreateTempSubdirectory("castor-weak-key").FullName;
        try
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => CastorHost.BuildAsync(new CastorOptions
            {
                Urls = "http://127.0.0.1:0", Models = [server.EmptyModels], Data = data, BuiltinEmbeddingModel = false, ApiKey = "password123",
            }));
            Assert.Contains("at least 16", error.Message);
            Assert.Contains("openssl rand", error.Message);
        }
        finally
        {
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task Without_a_model_generation_fails_with_instructions_to_add_one()
    {
        var keys = server.App.Services.GetService(typeof(Castor.Application.Keys.ApiKeyService)) as Castor.Application.Keys.ApiKeyService;
        var key = await keys!.CreateKeyAsync("default");
        using var client = server.CreateClient(key.Key);

        var (listStatus, list) = await client.GetJsonAsync("/v1beta/models");
        Assert.Equal(200, listStatus);
        // Only the built-in embedding model is there; nothing that generates.
        Assert.All(list!["models"]!.AsArray(), m => Assert.DoesNotContain("generateContent", m!["supportedGenerationMethods"]!.AsArray().Select(x => x!.GetValue<string>())));

        var (status, body) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", """{"contents":[{"parts":[{"text":"Hi"}]}]}""");
        Assert.Equal(400, status);
        var error = Json.AssertRpcError(body, 400, "FAILED_PRECONDITION");
        Assert.Contains("--models", error["message"]!.GetValue<string>());
    }
}

/// <summary>The banner of a server with the test model.</summary>
[Collection(ServerCollection.Name)]
public sealed class BannerTests(CastorServerFixture server)
{
    [Fact]
    public void The_banner_lists_the_loaded_model_and_its_aliases()
    {
        var banner = server.Console.ToString();
        Assert.Contains("Loading stories260k", banner);
        Assert.Contains("Model         stories260k", banner);
        Assert.Contains("gemini-2.5-flash", banner);
        Assert.Contains("→ stories260k", banner);
        Assert.Contains("1 active", banner);
    }
}
