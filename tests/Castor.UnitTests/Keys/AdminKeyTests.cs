using System.Collections.Concurrent;
using Castor.Application.Errors;
using Castor.Application.Keys;
using Castor.Storage.Keys;

namespace Castor.UnitTests.Keys;

public sealed class AdminKeyTests
{
    [Fact]
    public async Task A_key_created_admin_authenticates_as_an_admin_caller_and_an_ordinary_one_does_not()
    {
        var keys = new ApiKeyService(new MemoryKeyStore(), TimeProvider.System);
        var admin = await keys.CreateKeyAsync("ops", admin: true);
        var user = await keys.CreateKeyAsync("ops");

        var adminCaller = await keys.AuthenticateAsync(admin.Key);
        var userCaller = await keys.AuthenticateAsync(user.Key);
        Assert.True(admin.Admin);
        Assert.True(adminCaller.IsAdmin);
        Assert.False(userCaller.IsAdmin);

        adminCaller.RequireAdmin();
        var refused = Assert.Throws<CastorException>(userCaller.RequireAdmin);
        Assert.Equal(ErrorStatus.PermissionDenied, refused.Status);
        Assert.Contains("castor keys create --admin", refused.Message);
    }

    /// <summary>Just enough of a key store for the service's own logic (the SQL stores have their contract tests).</summary>
    private sealed class MemoryKeyStore : IKeyStore
    {
        private readonly ConcurrentDictionary<string, (StoredKey Key, string Project)> _keys = new();

        public Task<string> EnsureProjectAsync(string name, CancellationToken cancellationToken = default) => Task.FromResult("p-" + name);

        public Task<bool> AddKeyAsync(StoredKey key, string projectName, CancellationToken cancellationToken = default) =>
            Task.FromResult(_keys.TryAdd(Convert.ToHexString(key.Hash), (key, projectName)));

        public Task<KeyOwner?> FindActiveKeyAsync(byte[] hash, CancellationToken cancellationToken = default) =>
            Task.FromResult(_keys.TryGetValue(Convert.ToHexString(hash), out var k) ? new KeyOwner(k.Key.Id, "p-" + k.Project, k.Project, k.Key.Admin) : null);

        public Task<IReadOnlyList<KeyListing>> ListKeysAsync(string? projectName, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<KeyListing>>([.. _keys.Values.Select(k => new KeyListing(k.Key.Id, k.Project, k.Key.Hint, k.Key.DisplayName, k.Key.CreatedAt, null, k.Key.Admin))]);

        public Task<bool> RevokeKeyAsync(string keyId, DateTimeOffset revokedAt, CancellationToken cancellationToken = default) => Task.FromResult(false);

        public Task<int> CountActiveKeysAsync(CancellationToken cancellationToken = default) => Task.FromResult(_keys.Count);
    }
}
