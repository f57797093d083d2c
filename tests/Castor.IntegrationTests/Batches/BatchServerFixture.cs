using Castor.Application.Batches;
using Castor.Application.Keys;
using Castor.Application.Models;
using Castor.Server;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Batches;

/// <summary>A real server whose batch workers poll often and hold short leases (so tests do not wait), and a second project's key.</summary>
public sealed class BatchServerFixture : CastorServerFixture, IAsyncLifetime
{
    public string OtherProjectKey { get; private set; } = null!;

    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.Batches = new BatchOptions { LeaseDuration = TimeSpan.FromSeconds(3), PollInterval = TimeSpan.FromMilliseconds(100) };
        // Small enough for the test model's short documents, so a batch request can name a cachedContent.
        options.ModelSettings["stories260k"] = new ModelSettings { MinCacheTokens = Caching.CachesServerFixture.MinCacheTokens };
        return options;
    }

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        OtherProjectKey = (await App.Services.GetRequiredService<ApiKeyService>().CreateKeyAsync("batch-other-project")).Key;
    }

    Task IAsyncLifetime.InitializeAsync() => InitializeAsync();
}

[CollectionDefinition(Name)]
public sealed class BatchCollection : ICollectionFixture<BatchServerFixture>
{
    public const string Name = "castor-batches";
}
