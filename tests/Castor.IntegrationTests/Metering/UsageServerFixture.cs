using System.Text.Json.Nodes;
using Castor.Application.Batches;
using Castor.Application.Keys;
using Castor.Application.Metering;
using Castor.Server;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Metering;

/// <summary>
/// A real server for the usage tests: an admin key, a fresh project per test (so tests do not see each other's usage),
/// fast batch polling, and a flush interval long enough that only the tests' own flushes write usage.
/// </summary>
public sealed class UsageServerFixture : CastorServerFixture, IAsyncLifetime
{
    public string AdminKey { get; private set; } = null!;

    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.Batches = new BatchOptions { LeaseDuration = TimeSpan.FromSeconds(3), PollInterval = TimeSpan.FromMilliseconds(100) };
        options.Usage = new UsageOptions { FlushInterval = TimeSpan.FromHours(1) };
        return options;
    }

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        AdminKey = (await App.Services.GetRequiredService<ApiKeyService>().CreateKeyAsync("operators", admin: true)).Key;
    }

    Task IAsyncLifetime.InitializeAsync() => InitializeAsync();

    /// <summary>An ordinary key of a new project named after <paramref name="prefix"/>.</summary>
    public async Task<(string Project, string Key)> NewProjectAsync(string prefix)
    {
        var project = $"{prefix}-{Guid.NewGuid():N}"[..24];
        return (project, (await App.Services.GetRequiredService<ApiKeyService>().CreateKeyAsync(project)).Key);
    }

    public Task FlushAsync() => App.Services.GetRequiredService<UsageMeter>().FlushAsync();

    /// <summary>Flushes, then reads <c>GET /v1beta/castor/usage?{query}</c> with <paramref name="key"/>.</summary>
    public async Task<(int Status, JsonNode? Body)> UsageAsync(string key, string query)
    {
        await FlushAsync();
        return await CreateClient(key).GetJsonAsync("/v1beta/castor/usage?" + query);
    }
}

[CollectionDefinition(Name)]
public sealed class UsageCollection : ICollectionFixture<UsageServerFixture>
{
    public const string Name = "castor-usage";
}
