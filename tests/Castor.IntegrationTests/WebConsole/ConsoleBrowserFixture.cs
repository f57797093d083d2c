using Castor.Application.Keys;
using Castor.Application.Models;
using Castor.Server;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium.Chrome;

namespace Castor.IntegrationTests.WebConsole;

/// <summary>A Castor server of its own (so the files the tests upload are the only ones) and one headless Chromium driving its console.</summary>
public sealed class ConsoleBrowserFixture : IAsyncLifetime
{
    public CastorServerFixture Server { get; } = new ConsoleServerFixture();

    private ChromeDriver? _browser;

    /// <summary>Started on first use, so a skipped test never launches it.</summary>
    public ChromeDriver Browser => _browser ??= ChromiumBrowser.Start();

    /// <summary>An admin key (project "operators"); <see cref="CastorServerFixture.ApiKey"/> is an ordinary key of "default".</summary>
    public string AdminKey { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        AdminKey = (await Server.App.Services.GetRequiredService<ApiKeyService>().CreateKeyAsync("operators", "console admin", admin: true)).Key;
    }

    public async Task DisposeAsync()
    {
        _browser?.Quit();
        _browser?.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>The test model accepts cached contents of its short documents, so the console's list has one to show.</summary>
public sealed class ConsoleServerFixture : CastorServerFixture
{
    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.ModelSettings["stories260k"] = new ModelSettings { MinCacheTokens = Caching.CachesServerFixture.MinCacheTokens };
        return options;
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleBrowserCollection : ICollectionFixture<ConsoleBrowserFixture>
{
    public const string Name = "console-browser";
}
