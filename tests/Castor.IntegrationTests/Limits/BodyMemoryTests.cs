using System.Diagnostics;
using System.Text;
using Castor.Application.Limits;
using Castor.Server;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Castor.IntegrationTests.Limits;

/// <summary>A server whose request-body memory budget fits two 18 MB bodies (each charged 12× its size) at once.</summary>
public sealed class BodyMemoryServerFixture : CastorServerFixture
{
    public const long Budget = 500L * 1024 * 1024;

    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.Limits = new LimitsOptions { RequestBodyMemory = Budget, MaxConcurrentRequestsPerKey = 64, MaxConcurrentRequestsPerProject = 64 };
        return options;
    }
}

/// <summary>
/// The review's flood: many concurrent 18 MB countTokens bodies. Before the budget, thirty held 7.8 GB; now the bodies
/// beyond the budget are refused with 503 UNAVAILABLE (read to the end and dropped, never buffered), and memory
/// stays bounded.
/// </summary>
// Alone: it reads the process's allocation counters, which tests running beside it would inflate.
[Collection(Castor.IntegrationTests.Files.AloneCollection.Name)]
public sealed class BodyMemoryTests(BodyMemoryServerFixture server, ITestOutputHelper output) : IClassFixture<BodyMemoryServerFixture>
{
    private const string CountTokens = "/v1beta/models/gemini-2.5-flash:countTokens";

    private static byte[] TextBody(int bytes)
    {
        var text = new StringBuilder(bytes);
        while (text.Length < bytes - 64) text.Append("once upon a time there was a cat. ");
        return Encoding.UTF8.GetBytes($$"""{"contents":[{"parts":[{"text":"{{text}}"}]}]}""");
    }

    [Fact]
    public async Task What_one_large_countTokens_body_costs_stays_within_the_factor_the_budget_charges()
    {
        // 2 MB rather than 18: tokenizing 18 MB takes minutes on a loaded 2-core machine, and the cost is linear.
        var body = TextBody(2_000_000);
        using var client = server.CreateClient();
        using (var warm = await client.PostAsync(CountTokens, Json.Body("""{"contents":[{"parts":[{"text":"warm up"}]}]}""")))
            Assert.Equal(200, (int)warm.StatusCode);

        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        using (var response = await client.PostAsync(CountTokens, new ByteArrayContent(body)))
            Assert.Equal(200, (int)response.StatusCode);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        var factor = allocated / (double)body.Length;
        output.WriteLine($"one {body.Length / 1e6:0.0} MB countTokens allocated {allocated / 1e6:0} MB ({factor:0.0}x the body) in {clock.Elapsed.TotalSeconds:0.0} s");
        // The budget charges RequestBody.BodyCostFactor (12) per byte; a new copy of the text somewhere on the way (2
        // to 4 bytes a byte) would push this past it.
        Assert.True(factor <= Castor.Api.Hosting.RequestBody.BodyCostFactor + 1, $"one body costs {factor:0.0}x its size");
    }

    [Fact]
    public async Task A_flood_of_18_MB_bodies_is_answered_503_past_the_budget_and_memory_growth_stays_bounded()
    {
        // A model name that does not exist: each admitted body is buffered and parsed in full (what the budget is
        // charged for) and then answered 404, so the flood does not wait minutes for 18 MB tokenizations.
        const string path = "/v1beta/models/no-such-model:countTokens";
        var body = TextBody(18_000_000);
        using var client = server.CreateClient();
        client.Timeout = TimeSpan.FromMinutes(5);

        await using var workingSet = WorkingSetPeak.Start(TimeSpan.FromMilliseconds(20));

        const int flood = 16;
        var clock = Stopwatch.StartNew();
        var responses = await Task.WhenAll(Enumerable.Range(0, flood).Select(_ => client.PostAsync(path, new ByteArrayContent(body))));
        await workingSet.StopAsync();

        var parsed = responses.Count(r => (int)r.StatusCode == 404);
        var refused = responses.Where(r => (int)r.StatusCode == 503).ToList();
        output.WriteLine($"{flood} concurrent in {clock.Elapsed.TotalSeconds:0.0} s: {parsed} × 404 (buffered and parsed), {refused.Count} × 503; " +
                         $"working set {workingSet.Baseline / 1e6:0} MB → peak {workingSet.Peak / 1e6:0} MB (+{workingSet.Growth / 1e6:0} MB)");
        Assert.Equal(flood, parsed + refused.Count);
        Assert.True(parsed >= 1);
        Assert.NotEmpty(refused);
        foreach (var response in refused)
        {
            Assert.Equal("1", response.Headers.RetryAfter?.ToString());
            Assert.Contains("Limits:RequestBodyMemory", Json.AssertRpcError(await Json.ReadAsync(response), 503, "UNAVAILABLE")["message"]!.GetValue<string>());
        }
        Assert.Equal(0, server.App.Services.GetRequiredService<MemoryBudget>().HeldBytes);

        // The stated bound: 1 GB of growth for the whole flood (16 bodies held at once would be over 3 GB).
        Assert.True(workingSet.Growth < 1_000_000_000, $"working set grew by {workingSet.Growth / 1e6:0} MB");
    }

    [Fact]
    public async Task A_small_request_is_never_refused_by_the_budget()
    {
        var budget = server.App.Services.GetRequiredService<MemoryBudget>();
        for (var i = 0; i < 600 && budget.HeldBytes > 0; i++) await Task.Delay(100);
        using var hog = budget.Reserve();
        hog.GrowTo(BodyMemoryServerFixture.Budget);
        using var client = server.CreateClient();
        var (status, _) = await client.PostAsync(CountTokens, """{"contents":[{"parts":[{"text":"hi"}]}]}""");
        Assert.Equal(200, status);
    }
}
