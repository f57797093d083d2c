using Castor.Application.Keys;
using Castor.IntegrationTests.Limits;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Castor.IntegrationTests.Operations;

/// <summary>A server whose log lines are captured, and the project id its test key belongs to (metrics and spans are labelled by it).</summary>
public sealed class OperationsServerFixture : CastorServerFixture, IAsyncLifetime
{
    public CapturedLog Log { get; } = new();

    public string ProjectId { get; private set; } = "";

    protected override void ConfigureLogging(ILoggingBuilder logging) => logging.AddProvider(Log);

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        ProjectId = (await App.Services.GetRequiredService<ApiKeyService>().AuthenticateAsync(ApiKey)).ProjectId;
    }

    Task IAsyncLifetime.InitializeAsync() => InitializeAsync();
}
