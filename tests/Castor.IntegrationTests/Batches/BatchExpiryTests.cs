using Castor.Application.Batches;
using Castor.Server;

namespace Castor.IntegrationTests.Batches;

/// <summary>Batches:MaxRunTime: a job not finished in time ends EXPIRED with what it finished.</summary>
public sealed class BatchExpiryTests : IAsyncLifetime
{
    private sealed class ShortRunTimeServer : CastorServerFixture
    {
        protected override CastorOptions CreateOptions()
        {
            var options = base.CreateOptions();
            options.BuiltinEmbeddingModel = false;
            // One tick: the job's time is up before any worker looks at it.
            options.Batches = new BatchOptions { MaxRunTime = TimeSpan.FromTicks(1), PollInterval = TimeSpan.FromMilliseconds(100) };
            return options;
        }
    }

    private readonly ShortRunTimeServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task A_job_past_its_max_run_time_ends_expired()
    {
        using var client = _server.CreateClient();
        var operation = await BatchClient.CreateInlineAsync(client, Enumerable.Range(0, 3).Select(i => new { request = BatchClient.Request($"Tale {i}") }));
        var done = await BatchClient.WaitAsync(client, operation["name"]!.GetValue<string>());

        Assert.Equal("BATCH_STATE_EXPIRED", BatchClient.State(done));
        Assert.Equal(3, BatchClient.Stat(done, "pendingRequestCount"));
        Assert.NotNull(done["metadata"]!["endTime"]);
    }
}
