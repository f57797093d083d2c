using Castor.Application.Keys;
using Castor.Application.Models;
using Castor.Server;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Caching;

/// <summary>
/// A real server whose test model accepts caches from 64 tokens (MinCacheTokens), a second generative model (a copy of
/// the test model, <see cref="Twin"/>) for model-mismatch checks, and a second project's key.
/// </summary>
public sealed class CachesServerFixture : CastorServerFixture, IAsyncLifetime
{
    public const int MinCacheTokens = 64;
    public const string Twin = "twin";

    public string OtherProjectKey { get; private set; } = null!;

    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.ModelSettings["stories260k"] = new ModelSettings { MinCacheTokens = MinCacheTokens };
        // Castor loads a file once: the twin is a copy of the test model under its own name.
        Directory.CreateDirectory(DataFolder);
        var copy = Path.Combine(DataFolder, "twin.gguf");
        File.Copy(TestModels.Stories260K, copy, overwrite: true);
        options.ModelSettings[Twin] = new ModelSettings { Path = copy, MinCacheTokens = MinCacheTokens };
        options.DefaultModel = "stories260k";
        options.Parallel = 4;
        return options;
    }

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        OtherProjectKey = (await App.Services.GetRequiredService<ApiKeyService>().CreateKeyAsync("other-cache-project")).Key;
    }

    Task IAsyncLifetime.InitializeAsync() => InitializeAsync();
}

[CollectionDefinition(Name)]
public sealed class CachesCollection : ICollectionFixture<CachesServerFixture>
{
    public const string Name = "castor-caches";
}
