using OpenQA.Selenium.Chrome;

namespace Castor.IntegrationTests.WebConsole;

/// <summary>A Castor server of its own (so the files the tests upload are the only ones) and one headless Chromium driving its console.</summary>
public sealed class ConsoleBrowserFixture : IAsyncLifetime
{
    public CastorServerFixture Server { get; } = new();

    private ChromeDriver? _browser;

    /// <summary>Started on first use, so a skipped test never launches it.</summary>
    public ChromeDriver Browser => _browser ??= ChromiumBrowser.Start();

    public Task InitializeAsync() => Server.InitializeAsync();

    public async Task DisposeAsync()
    {
        _browser?.Quit();
        _browser?.Dispose();
        await Server.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleBrowserCollection : ICollectionFixture<ConsoleBrowserFixture>
{
    public const string Name = "console-browser";
}
