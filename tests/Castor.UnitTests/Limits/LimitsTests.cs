using System.Text;
using System.Text.Json.Nodes;
using Castor.Api.Gemini.Infrastructure;
using Castor.Application.Errors;
using Castor.Application.Keys;
using Castor.Application.Limits;
using Castor.Storage.Keys;

namespace Castor.UnitTests.Limits;

public sealed class ConcurrencyLimiterTests
{
    private static readonly Caller KeyA1 = new("p-a", "alpha", "k-a1");
    private static readonly Caller KeyA2 = new("p-a", "alpha", "k-a2");
    private static readonly Caller KeyB = new("p-b", "beta", "k-b");

    private static ConcurrencyLimiter Limiter(int perKey, int perProject) =>
        new(new RequestLimitSettings { MaxConcurrentRequestsPerKey = perKey, MaxConcurrentRequestsPerProject = perProject });

    [Fact]
    public void A_key_over_its_limit_gets_429_with_quota_failure_and_retry_info_while_other_projects_pass()
    {
        var limiter = Limiter(perKey: 2, perProject: 10);
        using var first = limiter.Enter(KeyA1);
        using var second = limiter.Enter(KeyA1);

        var error = Assert.Throws<CastorException>(() => limiter.Enter(KeyA1));
        Assert.Equal(ErrorStatus.ResourceExhausted, error.Status);
        Assert.Contains("Limits:MaxConcurrentRequestsPerKey", error.Message);
        Assert.Equal("ConcurrentRequestsPerKey", Assert.Single(error.Details.OfType<QuotaViolation>()).QuotaId);
        Assert.Equal(TimeSpan.FromSeconds(1), Assert.Single(error.Details.OfType<RetryDelay>()).Delay);

        using var other = limiter.Enter(KeyB);
        using var sameProjectOtherKey = limiter.Enter(KeyA2);
    }

    [Fact]
    public void The_project_limit_counts_all_keys_of_the_project()
    {
        var limiter = Limiter(perKey: 2, perProject: 3);
        using var a = limiter.Enter(KeyA1);
        using var b = limiter.Enter(KeyA1);
        using var c = limiter.Enter(KeyA2);
        var error = Assert.Throws<CastorException>(() => limiter.Enter(KeyA2));
        Assert.Contains("project 'alpha'", error.Message);
        Assert.Equal("ConcurrentRequestsPerProject", Assert.Single(error.Details.OfType<QuotaViolation>()).QuotaId);
        using var other = limiter.Enter(KeyB);
    }

    [Fact]
    public void Ending_a_request_gives_its_place_back_once()
    {
        var limiter = Limiter(perKey: 1, perProject: 1);
        var lease = limiter.Enter(KeyA1);
        Assert.Throws<CastorException>(() => limiter.Enter(KeyA1));
        lease.Dispose();
        lease.Dispose();
        Assert.Equal(0, limiter.InFlightForKey(KeyA1.KeyId));
        using var again = limiter.Enter(KeyA1);
        Assert.Throws<CastorException>(() => limiter.Enter(KeyA2));
    }

    [Theory]
    [InlineData(1, 64, 8, 16)]
    [InlineData(8, 64, 9, 18)]
    [InlineData(1, 0, 1, 2)]
    public void Defaults_leave_room_for_other_callers(int parallel, int maxQueue, int perKey, int perProject)
    {
        var (key, project) = RequestLimitSettings.DefaultConcurrency(parallel, maxQueue);
        Assert.Equal((perKey, perProject), (key, project));
        Assert.True(project < parallel + maxQueue || parallel + maxQueue <= 2, "one project must not be able to hold every sequence and the whole queue");
        Assert.True(key <= project);
    }
}

public sealed class MemoryBudgetTests
{
    [Fact]
    public void A_reservation_over_the_budget_is_503_with_retry_info_and_released_bytes_return()
    {
        var budget = new MemoryBudget(100);
        var first = budget.Reserve();
        first.GrowTo(60);
        using var second = budget.Reserve();
        var error = Assert.Throws<CastorException>(() => second.GrowTo(50));
        Assert.Equal(ErrorStatus.Unavailable, error.Status);
        Assert.Contains("Limits:RequestBodyMemory", error.Message);
        Assert.Single(error.Details.OfType<RetryDelay>());
        Assert.Equal(60, budget.HeldBytes);

        first.Dispose();
        first.Dispose();
        Assert.Equal(0, budget.HeldBytes);
        second.GrowTo(50);
        Assert.Equal(50, budget.HeldBytes);
    }

    [Fact]
    public void One_reservation_fits_when_nothing_else_is_held_even_past_the_budget()
    {
        var budget = new MemoryBudget(10);
        using var big = budget.Reserve();
        big.GrowTo(1000);
        using var next = budget.Reserve();
        Assert.Throws<CastorException>(() => next.GrowTo(1));
    }
}

public sealed class QuotaErrorShapeTests
{
    [Fact]
    public void A_429_carries_google_rpc_QuotaFailure_and_RetryInfo_as_the_API_sends_them()
    {
        var error = new CastorException(ErrorStatus.ResourceExhausted, "Resource has been exhausted.",
            new QuotaViolation("castor/concurrent_requests", "ConcurrentRequestsPerKey", "at most 2"), new RetryDelay(TimeSpan.FromSeconds(1)));
        var body = JsonNode.Parse(Encoding.UTF8.GetString(GeminiErrors.ToJson(error)))!["error"]!;
        Assert.Equal(429, body["code"]!.GetValue<int>());
        Assert.Equal("RESOURCE_EXHAUSTED", body["status"]!.GetValue<string>());
        var details = body["details"]!.AsArray();
        var quota = details.Single(d => d!["@type"]!.GetValue<string>() == "type.googleapis.com/google.rpc.QuotaFailure")!;
        Assert.Equal("ConcurrentRequestsPerKey", quota["violations"]![0]!["quotaId"]!.GetValue<string>());
        Assert.Equal("castor/concurrent_requests", quota["violations"]![0]!["quotaMetric"]!.GetValue<string>());
        var retry = details.Single(d => d!["@type"]!.GetValue<string>() == "type.googleapis.com/google.rpc.RetryInfo")!;
        Assert.Equal("1s", retry["retryDelay"]!.GetValue<string>());
    }
}

public sealed class ApiKeyServiceTests
{
    [Fact]
    public async Task A_seeded_key_shorter_than_16_characters_is_refused_with_how_to_make_one()
    {
        var service = new ApiKeyService(new MemoryKeyStore(), TimeProvider.System);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => service.SeedKeyAsync("short-key-123"));
        Assert.Contains("at least 16", error.Message);
        Assert.Contains("openssl rand", error.Message);
    }

    [Fact]
    public async Task A_seeded_key_gets_a_random_id_unrelated_to_its_hash_and_a_four_character_hint()
    {
        var store = new MemoryKeyStore();
        var service = new ApiKeyService(store, TimeProvider.System);
        const string key = "a-long-enough-operator-key-0042";
        await service.SeedKeyAsync(key);
        var stored = Assert.Single(store.Keys);
        var hashDerived = "k-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(key)).AsSpan(0, 6));
        Assert.NotEqual(hashDerived, stored.Id);
        Assert.Matches("^k-[0-9a-f]{12}$", stored.Id);
        Assert.Equal("…0042", stored.Hint);
        Assert.Equal(stored.Id, (await service.AuthenticateAsync(key)).KeyId);

        // Seeding again is idempotent: the same key is not stored twice under a new random id.
        await service.SeedKeyAsync(key);
        Assert.Single(store.Keys);
    }

    [Fact]
    public async Task Created_keys_show_only_their_last_four_characters()
    {
        var store = new MemoryKeyStore();
        var created = await new ApiKeyService(store, TimeProvider.System).CreateKeyAsync("alpha");
        Assert.Equal("castor_…" + created.Key[^4..], Assert.Single(store.Keys).Hint);
    }

    private sealed class MemoryKeyStore : IKeyStore
    {
        public List<StoredKey> Keys { get; } = [];

        public Task<string> EnsureProjectAsync(string name, CancellationToken cancellationToken = default) => Task.FromResult("p-" + name);

        public Task<bool> AddKeyAsync(StoredKey key, string projectName, CancellationToken cancellationToken = default)
        {
            if (Keys.Any(k => k.Hash.AsSpan().SequenceEqual(key.Hash))) return Task.FromResult(false);
            Keys.Add(key);
            return Task.FromResult(true);
        }

        public Task<KeyOwner?> FindActiveKeyAsync(byte[] hash, CancellationToken cancellationToken = default) =>
            Task.FromResult(Keys.FirstOrDefault(k => k.Hash.AsSpan().SequenceEqual(hash)) is { } k ? new KeyOwner(k.Id, "p-default", "default") : null);

        public Task<IReadOnlyList<KeyListing>> ListKeysAsync(string? projectName, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<bool> RevokeKeyAsync(string keyId, DateTimeOffset revokedAt, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<int> CountActiveKeysAsync(CancellationToken cancellationToken = default) => Task.FromResult(Keys.Count);
    }
}
