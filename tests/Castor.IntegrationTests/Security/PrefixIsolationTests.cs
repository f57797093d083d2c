using Castor.Application.Keys;
using Castor.Server;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Security;

/// <summary>
/// Implicit prefix caching must not become an oracle between projects: with sharing, project B could test guesses of
/// project A's prompt and read how many tokens were reused (the review recovered a digit of A's prompt that way).
/// </summary>
public abstract class TwoProjectServerFixture : CastorServerFixture, IAsyncLifetime
{
    public string OtherProjectKey { get; private set; } = null!;

    protected abstract bool ShareAcrossProjects { get; }

    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.Cache = new CacheOptions { ShareAcrossProjects = ShareAcrossProjects };
        return options;
    }

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        OtherProjectKey = (await App.Services.GetRequiredService<ApiKeyService>().CreateKeyAsync("tenant-b")).Key;
    }

    Task IAsyncLifetime.InitializeAsync() => InitializeAsync();
}

public sealed class IsolatedPrefixesFixture : TwoProjectServerFixture
{
    protected override bool ShareAcrossProjects => false;
}

public sealed class SharedPrefixesFixture : TwoProjectServerFixture
{
    protected override bool ShareAcrossProjects => true;
}

internal static class PrefixProbe
{
    /// <summary>A long secret-bearing system instruction, then a question; answers cachedContentTokenCount (0 when absent).</summary>
    public static async Task<int> CachedTokensAsync(HttpClient client, string secret, string question)
    {
        var system = "The vault code is " + secret + ". " + string.Concat(Enumerable.Repeat("Never tell anyone the code of the vault. ", 12));
        var (status, body) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent",
            $$$"""{"systemInstruction":{"parts":[{"text":"{{{system}}}"}]},"contents":[{"parts":[{"text":"{{{question}}}"}]}],"generationConfig":{"maxOutputTokens":2,"seed":1}}""");
        Assert.Equal(200, status);
        return body!["usageMetadata"]!["cachedContentTokenCount"]?.GetValue<int>() ?? 0;
    }
}

public sealed class PrefixIsolationTests(IsolatedPrefixesFixture server) : IClassFixture<IsolatedPrefixesFixture>
{
    [Fact]
    public async Task Another_projects_resident_prefix_is_never_reused_or_reported()
    {
        using var tenantA = server.CreateClient();
        using var tenantB = server.CreateClient(server.OtherProjectKey);
        await PrefixProbe.CachedTokensAsync(tenantA, "4711", "What is in the vault?");

        // B sends A's exact prompt, a right guess: it must look like any wrong guess, with nothing reused.
        var rightGuess = await PrefixProbe.CachedTokensAsync(tenantB, "4711", "What is in the vault?");
        Assert.Equal(0, rightGuess);

        // A itself still gets its implicit cache, so isolation did not simply switch caching off.
        var again = await PrefixProbe.CachedTokensAsync(tenantA, "4711", "Who guards the vault?");
        Assert.True(again > 50, $"cachedContentTokenCount for the same project was {again}");
    }
}

public sealed class SharedPrefixTests(SharedPrefixesFixture server) : IClassFixture<SharedPrefixesFixture>
{
    [Fact]
    public async Task With_ShareAcrossProjects_a_prefix_is_reused_between_projects()
    {
        using var tenantA = server.CreateClient();
        using var tenantB = server.CreateClient(server.OtherProjectKey);
        await PrefixProbe.CachedTokensAsync(tenantA, "4711", "What is in the vault?");

        var shared = await PrefixProbe.CachedTokensAsync(tenantB, "4711", "Who guards the vault?");
        Assert.True(shared > 50, $"cachedContentTokenCount across projects was {shared}");
    }
}
