using System.Net.Http.Headers;
using Castor.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Castor.IntegrationTests;

/// <summary>A real Castor on Kestrel, on a free loopback port, with the stories260K test model and a temporary data folder.</summary>
public class CastorServerFixture : IAsyncLifetime
{
    public const string ApiKey = "integration-test-key";

    private WebApplication? _app;

    public string DataFolder { get; } = Path.Combine(Path.GetTempPath(), "castor-tests-" + Guid.NewGuid().ToString("N")[..8]);
    public Uri BaseAddress { get; private set; } = null!;
    public StringWriter Console { get; } = new();

    protected virtual CastorOptions CreateOptions() => new()
    {
        Urls = "http://127.0.0.1:0",
        Models = [TestModels.Stories260K],
        Data = DataFolder,
        Threads = 2,
        ApiKey = ApiKey,
        MaxQueue = 64,
    };

    /// <summary>Adds log providers (a test that reads the server's log lines adds its own).</summary>
    protected virtual void ConfigureLogging(ILoggingBuilder logging)
    {
    }

    /// <summary>Maps more routes on the built host before it starts (a test of how new routes are treated adds its own).</summary>
    protected virtual void MapRoutes(WebApplication app)
    {
    }

    public async Task InitializeAsync()
    {
        _app = await CastorHost.BuildAsync(CreateOptions(), TextWriter.Synchronized(Console), ConfigureLogging);
        MapRoutes(_app);
        await _app.StartAsync();
        BaseAddress = new Uri(CastorHost.Addresses(_app)[0]);
    }

    public WebApplication App => _app!;

    /// <summary>A client that sends the test key in x-goog-api-key, as @google/genai does.</summary>
    public HttpClient CreateClient(string? apiKey = ApiKey)
    {
        // Generous: CI machines have 2 cores, and grammar-constrained tests generate hundreds of tokens.
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(180) };
        if (apiKey is not null) client.DefaultRequestHeaders.Add("x-goog-api-key", apiKey);
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        try { Directory.Delete(DataFolder, recursive: true); } catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<CastorServerFixture>
{
    public const string Name = "castor-server";
}
