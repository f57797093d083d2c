using System.Net;

namespace Castor.IntegrationTests.WebConsole;

/// <summary>The console's files as the server serves them: from the binary, without a key, and with a policy that keeps the page to its own origin.</summary>
[Collection(ServerCollection.Name)]
public sealed class ConsoleAssetsTests(CastorServerFixture server)
{
    [Fact]
    public async Task The_console_page_is_served_without_a_key_with_a_self_only_content_security_policy()
    {
        using var client = server.CreateClient(apiKey: null);
        using var response = await client.GetAsync("/console/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy);
        Assert.Contains("script-src 'self'", policy);
        Assert.Contains("connect-src 'self'", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<script type=\"module\" src=\"app.js\">", html);
    }

    [Fact]
    public async Task The_console_without_a_trailing_slash_redirects_to_it()
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false };
        using var client = new HttpClient(handler) { BaseAddress = server.BaseAddress };
        using var response = await client.GetAsync("/console");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/console/", response.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("app.js", "text/javascript")]
    [InlineData("playground.js", "text/javascript")]
    [InlineData("console.css", "text/css")]
    public async Task Each_asset_is_served_from_the_binary_and_names_no_other_origin(string asset, string mediaType)
    {
        using var client = server.CreateClient(apiKey: null);
        using var response = await client.GetAsync("/console/" + asset);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("http://", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_missing_console_file_is_404_and_no_API_route()
    {
        using var client = server.CreateClient(apiKey: null);
        using var response = await client.GetAsync("/console/nothing-here.js");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
