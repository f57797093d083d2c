using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Metering;
using Castor.Application.Models;
using Castor.Application.Quotas;
using Castor.Storage.Relational;
using Castor.Storage.Sqlite;
using Castor.UnitTests.Generation;
using Microsoft.Extensions.Time.Testing;

namespace Castor.UnitTests.Quotas;

/// <summary>
/// The limiter inside the generation path, on a fake model whose every character is a token: TPM counts the prepared
/// prompt exactly and before the engine sees it, Live turns count tokens only, and a path without the seam still counts.
/// </summary>
public sealed class QuotaGenerationServiceTests : IAsyncLifetime
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "castor-quota-gen-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 5, 10, 0, 30, TimeSpan.Zero));
    private SqliteDatabase _database = null!;
    private Caller _caller = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        _database = new SqliteDatabase(_folder);
        await _database.MigrateAsync();
        var projects = new SqlProjectStore(_database);
        Assert.True(await projects.CreateProjectAsync("team", null, _clock.GetUtcNow()));
        _caller = new Caller((await projects.ListProjectsAsync()).Single().Id, "team", "k-1") { TierKnown = true };
    }

    public Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private QuotaLimiter Limiter(QuotaLimits limits) => new(new QuotaOptions { DefaultTier = "free", Tiers = new() { ["free"] = new() { ["*"] = limits } } },
        new SqlQuotaCounterStore(_database), new SqlProjectStore(_database), _clock);

    private static GenerationRequest Request(string text) => new() { Model = "models/fake", Contents = [new Content("user", [new TextPart(text)])] };

    /// <summary>The fake renders <c>user: {text}\n</c>, one token a character.</summary>
    private static int PromptTokens(string text) => FakeModelBackend.Render([new Castor.Application.Backends.PromptMessage("user", text)]).Length;

    [Fact]
    public async Task Tpm_counts_the_prepared_prompts_real_tokens_and_a_refused_prompt_never_reaches_the_engine()
    {
        var backend = new FakeModelBackend();
        var catalogue = new ModelCatalogue([backend]);
        var limiter = Limiter(new QuotaLimits { Tpm = 2 * PromptTokens("Hi") });
        var service = new QuotaGenerationService(new GenerationService(catalogue), limiter, catalogue);

        await service.GenerateAsync(_caller, Request("Hi"), CancellationToken.None);
        await (await service.StartAsync(_caller, Request("Hi"), CancellationToken.None)).ReadAllAsync().CountAsync();
        var refused = await Assert.ThrowsAsync<CastorException>(() => service.GenerateAsync(_caller, Request("H"), CancellationToken.None));
        Assert.Equal(ErrorStatus.ResourceExhausted, refused.Status);
        Assert.Equal(2, backend.Requests.Count);

        // An invalid request counts as a request (the API's billing FAQ) but its tokens were never read: the next
        // minute's token allowance is whole.
        _clock.Advance(TimeSpan.FromMinutes(1));
        await Assert.ThrowsAsync<CastorException>(() => service.GenerateAsync(_caller, Request("Hi") with { Config = new GenerationConfig { Temperature = 5 } },
            CancellationToken.None));
        await service.GenerateAsync(_caller, Request("Hi"), CancellationToken.None);
        await service.GenerateAsync(_caller, Request("Hi"), CancellationToken.None);
        Assert.Equal(4, backend.Requests.Count);
    }

    [Fact]
    public async Task A_request_that_fails_with_a_400_still_counts_against_requests_but_a_refused_one_does_not()
    {
        var backend = new FakeModelBackend();
        var catalogue = new ModelCatalogue([backend]);
        var limiter = Limiter(new QuotaLimits { Rpm = 2 });
        var service = new QuotaGenerationService(new GenerationService(catalogue), limiter, catalogue);

        // The API's billing FAQ: a request that fails with a 400 or a 500 is not charged but counts against the quota.
        var invalid = await Assert.ThrowsAsync<CastorException>(() => service.GenerateAsync(_caller,
            Request("Hi") with { Config = new GenerationConfig { Temperature = 5 } }, CancellationToken.None));
        Assert.Equal(ErrorStatus.InvalidArgument, invalid.Status);
        await service.GenerateAsync(_caller, Request("Hi"), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<CastorException>(() => service.GenerateAsync(_caller, Request("Hi"), CancellationToken.None));
        Assert.Equal(ErrorStatus.ResourceExhausted, refused.Status);
        Assert.Single(backend.Requests);

        // The 429 itself took nothing: the next minute admits two again.
        _clock.Advance(TimeSpan.FromMinutes(1));
        await service.GenerateAsync(_caller, Request("Hi"), CancellationToken.None);
        await service.GenerateAsync(_caller, Request("Hi"), CancellationToken.None);
        Assert.Equal(3, backend.Requests.Count);
    }

    [Fact]
    public async Task A_live_turn_counts_its_tokens_but_is_not_a_request_of_its_own()
    {
        var catalogue = new ModelCatalogue([new FakeModelBackend()]);
        var limiter = Limiter(new QuotaLimits { Rpm = 1, Tpm = 3 * PromptTokens("Hi") });
        var service = new QuotaGenerationService(new GenerationService(catalogue), limiter, catalogue);
        using (UsageContext.Begin(UsageMethods.Live))
        {
            for (var turn = 0; turn < 3; turn++) await service.GenerateAsync(_caller, Request("Hi"), CancellationToken.None);
            var refused = await Assert.ThrowsAsync<CastorException>(() => service.GenerateAsync(_caller, Request("Hi"), CancellationToken.None));
            Assert.EndsWith("_input_token_count", Assert.Single(refused.Details.OfType<QuotaViolation>()).QuotaMetric);
        }
    }

    /// <summary>A generation service in front of the real one that drops the admission, as a backend without the seam would.</summary>
    private sealed class WithoutSeam(IGenerationService inner) : DelegatingGenerationService(inner)
    {
        public override Task<GenerationResult> GenerateAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken) =>
            Inner.GenerateAsync(caller, request with { Admission = null }, cancellationToken);
    }

    [Fact]
    public async Task A_call_that_bypassed_the_seam_is_still_counted_from_the_usage_it_reported()
    {
        var catalogue = new ModelCatalogue([new FakeModelBackend()]);
        var limiter = Limiter(new QuotaLimits { Rpm = 1, Tpm = 1000 });
        var service = new QuotaGenerationService(new WithoutSeam(new GenerationService(catalogue)), limiter, catalogue);
        await service.GenerateAsync(_caller, Request("Hi"), CancellationToken.None);
        await Assert.ThrowsAsync<CastorException>(() => limiter.AdmitAsync(_caller, QuotaOperation.GenerateContent, "fake", "fake", 1, 1, CancellationToken.None).AsTask());
    }
}
