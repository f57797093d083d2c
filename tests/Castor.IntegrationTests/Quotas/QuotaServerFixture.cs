using Castor.Application.Keys;
using Castor.Application.Quotas;
using Castor.Server;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Quotas;

/// <summary>A server whose default tier allows one request a day per model (the second call of a project is the 429) and 200 tokens waiting in batch jobs.</summary>
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
            },
        };
        return options;
    }

    /// <summary>A client with a key of a fresh project, so each test counts from zero.</summary>
    public async Task<HttpClient> NewProjectClientAsync(string project)
    {
        var created = await App.Services.GetRequiredService<ApiKeyService>().CreateKeyAsync(project);
        return CreateClient(created.Key);
    }
}
