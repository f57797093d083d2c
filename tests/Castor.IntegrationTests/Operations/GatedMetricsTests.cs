using System.Net;
using Castor.Application.Keys;
using Castor.Server;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Operations;

/// <summary>A server with Metrics:Anonymous false: /metrics is for admin keys only.</summary>
public sealed class GatedMetricsServerFixture : CastorServerFixture
{
    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.Metrics.Anonymous = false;
        return options;
    }
}

public sealed class GatedMetricsTests(GatedMetricsServerFixture server) : IClassFixture<GatedMetricsServerFixture>
{
    [Fact]
    public async Task Metrics_need_an_admin_key_when_not_anonymous()
    {
        var admin = await server.App.Services.GetRequiredService<ApiKeyService>().CreateKeyAsync("operators", admin: true);
        using (var anonymous = server.CreateClient(apiKey: null))
        using (var response = await anonymous.GetAsync("/metrics"))
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using (var project = server.CreateClient())
        using (var response = await project.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("PERMISSION_DENIED", await response.Content.ReadAsStringAsync());
        }
        using (var operators = server.CreateClient(admin.Key))
        using (var response = await operators.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("castor_kv_cells_total", await response.Content.ReadAsStringAsync());
        }
        // The probes stay public.
        using (var anonymous = server.CreateClient(apiKey: null))
        using (var response = await anonymous.GetAsync("/readyz"))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
