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

    [Fact]
    public async Task Through_the_API_an_admin_revokes_other_keys_but_not_its_own_nor_the_last_admin_key()
    {
        var keys = new ApiKeyService(new MemoryKeyStore(), TimeProvider.System);
        var first = await keys.AuthenticateAsync((await keys.CreateKeyAsync("ops", admin: true)).Key);
        var second = await keys.CreateKeyAsync("ops", admin: true);
        var user = await keys.CreateKeyAsync("ops");

        Assert.Equal(ErrorStatus.FailedPrecondition, (await Assert.ThrowsAsync<CastorException>(() => keys.RevokeByAsync(first, first.KeyId))).Status);
        Assert.True(await keys.RevokeByAsync(first, user.Id));
        Assert.True(await keys.RevokeByAsync(first, second.Id));
        // first is now the only admin key left: no other admin could revoke it, and it cannot revoke itself.
        var last = await Assert.ThrowsAsync<CastorException>(() => keys.RevokeByAsync(first with { KeyId = "someone-else" }, first.KeyId));
        Assert.Equal(ErrorStatus.FailedPrecondition, last.Status);
        Assert.Contains("last active admin key", last.Message);
        Assert.False(await keys.RevokeByAsync(first, "k-unknown"));
        Assert.Equal(ErrorStatus.PermissionDenied, (await Assert.ThrowsAsync<CastorException>(() => keys.RevokeByAsync(first with { IsAdmin = false }, user.Id))).Status);
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
            Task.FromResult<IReadOnlyList<KeyListing>>([.. _keys.Values.Select(k => new KeyListing(k.Key.Id, k.Project, k.Key.Hint, k.Key.DisplayName, k.Key.CreatedAt,
                _revoked.TryGetValue(k.Key.Id, out var at) ? at : null, k.Key.Admin))]);

        private readonly ConcurrentDictionary<string, DateTimeOffset> _revoked = new();

        public Task<bool> RevokeKeyAsync(string keyId, DateTimeOffset revokedAt, CancellationToken cancellationToken = default) =>
            Task.FromResult(_keys.Values.Any(k => k.Key.Id == keyId) && _revoked.TryAdd(keyId, revokedAt));

        public Task<int> CountActiveKeysAsync(CancellationToken cancellationToken = default) => Task.FromResult(_keys.Count);
    }
}
