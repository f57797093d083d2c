using Castor.Application.Keys;
using Castor.Application.Quotas;
using Castor.Server;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Quotas;

/// <summary>
/// A server whose default tier allows one request a day per model (the second call of a project is the 429) and 200
/// tokens waiting in batch jobs; other tiers for TPM and Live sessions, which tests move their projects to.
/// </summary>
public class QuotaServerFixture : CastorServerFixture
{
    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.Quotas = new QuotaOptions
        {
            DefaultTier = "free",
            Tiers = new()
            {
                ["free"] = new() { ["*"] = new QuotaLimits { Rpd = 1, BatchEnqueuedTokens = 200 } },
                ["unlimited"] = new() { ["*"] = new QuotaLimits() },
                // Input tokens per minute only, low enough that one prompt's real count decides (see QuotaTokenTests).
                ["tpm"] = new() { ["*"] = new QuotaLimits { Tpm = QuotaTokenTests.TokensPerMinute } },
                // Live: one session at a time per model, turns limited by tokens.
                ["live"] = new() { ["*"] = new QuotaLimits { Sessions = 1, Tpm = 1_000_000 } },
                ["live-tpm"] = new() { ["*"] = new QuotaLimits { Tpm = 1 } },
            },
        };
        return options;
    }

    /// <summary>A key of a fresh project in <paramref name="tier"/>.</summary>
    public async Task<string> NewProjectKeyAsync(string project, string tier)
    {
        var created = await App.Services.GetRequiredService<ApiKeyService>().CreateKeyAsync(project);
        Assert.True(await App.Services.GetRequiredService<ProjectService>().SetTierAsync(project, tier));
        return created.Key;
    }

    /// <summary>A client with a key of a fresh project, so each test counts from zero.</summary>
    public async Task<HttpClient> NewProjectClientAsync(string project)
    {
        var created = await App.Services.GetRequiredService<ApiKeyService>().CreateKeyAsync(project);
        return CreateClient(created.Key);
    }
}
