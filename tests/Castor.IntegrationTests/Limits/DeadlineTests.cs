using Castor.Application.Limits;
using Castor.Server;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Limits;

/// <summary>A server whose model requests may run for one second (Limits:RequestTimeout).</summary>
public sealed class DeadlineServerFixture : CastorServerFixture
{
    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.Limits = new LimitsOptions { RequestTimeout = TimeSpan.FromSeconds(1) };
        return options;
    }
}

public sealed class DeadlineTests(DeadlineServerFixture server) : IClassFixture<DeadlineServerFixture>
{
    [Fact]
    public async Task A_request_past_the_deadline_is_cancelled_with_504_DEADLINE_EXCEEDED_and_gives_its_place_back()
    {
        // The body never completes, so only the deadline can end the request.
        await using var held = await HeldRequest.StartAsync(server.BaseAddress, "/v1beta/models/gemini-2.5-flash:countTokens",
            CastorServerFixture.ApiKey, """{"contents":[{"parts":[{"text":"never sent in full"}]}]}""");
        var response = await held.ReadResponseAsync();
        Assert.StartsWith("HTTP/1.1 504", response);
        Assert.Contains("\"status\":\"DEADLINE_EXCEEDED\"", response);
        Assert.Contains("Limits:RequestTimeout", response);

        var limiter = server.App.Services.GetRequiredService<ConcurrencyLimiter>();
        var caller = await server.App.Services.GetRequiredService<Castor.Application.Keys.ApiKeyService>().AuthenticateAsync(CastorServerFixture.ApiKey);
        Assert.Equal(0, limiter.InFlightForKey(caller.KeyId));
    }
}
