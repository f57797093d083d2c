using System.Security.Cryptography;
using Castor.Storage.Caches;
using Castor.Storage.Files;
using Castor.Storage.Keys;
using Castor.Storage.Live;
using Castor.Storage.Relational;
using Castor.Storage.Sqlite;

namespace Castor.IntegrationTests.Storage;

/// <summary>
/// One storage suite, run against SQLite and PostgreSQL by the two classes below: the key store and the file store
/// must behave identically on both, from migrations to paging.
/// </summary>
public abstract class StorageContractTests : IAsyncLifetime
{
    private const long Quota = 1000;
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 12, 0, 0, 123, TimeSpan.Zero);

    protected IRelationalDatabase Database { get; set; } = null!;
    private SqlKeyStore Keys => new(Database);
    private SqlFileStore Files => new(Database);
    private SqlCachedContentStore Caches => new(Database);
    private SqlLiveSessionStore LiveSessions => new(Database);

    public abstract Task InitializeAsync();
    public abstract Task DisposeAsync();

    [StorageFact]
    public async Task Live_sessions_are_found_by_their_current_handle_replaced_in_place_and_swept_once_expired()
    {
        var alpha = await Keys.EnsureProjectAsync("alpha");
        byte[] first = [1, 2, 3], second = [4, 5, 6];
        var session = new StoredLiveSession("ls-1", first, alpha, "models/gemini-2.5-flash", "{\"model\":\"m\"}", "{\"contents\":[]}", T0, T0.AddHours(2));
        await LiveSessions.SaveAsync(session, T0);
        var found = await LiveSessions.FindAsync(first);
        Assert.Equal((session.Id, session.ProjectId, session.Model, session.Setup, session.Conversation, session.UpdateTime, session.ExpireTime),
            (found!.Id, found.ProjectId, found.Model, found.Setup, found.Conversation, found.UpdateTime, found.ExpireTime));
        Assert.Equal(first, found.HandleHash);

        // The next turn boundary: the same row under a new handle; the old handle finds nothing.
        await LiveSessions.SaveAsync(session with { HandleHash = second, Conversation = "{\"contents\":[{}]}", UpdateTime = T0.AddMinutes(1), ExpireTime = T0.AddHours(3) }, T0.AddMinutes(1));
        Assert.Null(await LiveSessions.FindAsync(first));
        var replaced = await LiveSessions.FindAsync(second);
        Assert.Equal(("ls-1", "{\"contents\":[{}]}", T0.AddHours(3)), (replaced!.Id, replaced.Conversation, replaced.ExpireTime));

        // Expired rows are still found (the caller tells expired from unknown) until a later save sweeps them.
        await LiveSessions.SaveAsync(session with { Id = "ls-2", HandleHash = first }, T0.AddHours(4));
        Assert.Null(await LiveSessions.FindAsync(second));
        Assert.NotNull(await LiveSessions.FindAsync(first));
    }

    [StorageFact]
    public async Task Cached_contents_round_trip_page_per_project_move_their_expiry_and_expire()
    {
        var alpha = await Keys.EnsureProjectAsync("alpha");
        var beta = await Keys.EnsureProjectAsync("beta");
        var first = new StoredCachedContent(alpha, "c1", "models/gemini-2.5-flash", "doc", "{\"contents\":[]}", 1500, T0, T0, T0.AddHours(1));
        await Caches.InsertAsync(first);
        await Caches.InsertAsync(first with { Id = "c2", DisplayName = null, CreateTime = T0.AddSeconds(1) });
        await Caches.InsertAsync(first with { Id = "c3", CreateTime = T0.AddSeconds(1) });
        await Caches.InsertAsync(first with { ProjectId = beta, Id = "c9" });

        Assert.Equal(first, await Caches.GetAsync(alpha, "c1", T0));
        Assert.Null(await Caches.GetAsync(beta, "c1", T0));
        Assert.Null(await Caches.GetAsync(alpha, "c1", T0.AddHours(1)));

        var page1 = await Caches.ListAsync(alpha, T0, 2, null);
        Assert.Equal(["c3", "c2"], page1.Select(c => c.Id));
        var page2 = await Caches.ListAsync(alpha, T0, 2, new CachedContentCursor(page1[^1].CreateTime, page1[^1].Id));
        Assert.Equal(["c1"], page2.Select(c => c.Id));
        Assert.Equal(4, (await Caches.ListAllAsync(T0)).Count);

        Assert.True(await Caches.UpdateExpiryAsync(alpha, "c1", T0.AddHours(5), T0.AddMinutes(1), T0));
        Assert.False(await Caches.UpdateExpiryAsync(beta, "c1", T0.AddHours(5), T0.AddMinutes(1), T0));
        var moved = await Caches.GetAsync(alpha, "c1", T0);
        Assert.Equal((T0.AddHours(5), T0.AddMinutes(1)), (moved!.ExpireTime, moved.UpdateTime));

        var expired = await Caches.DeleteExpiredAsync(T0.AddHours(2));
        Assert.Equal(new[] { (alpha, "c2"), (alpha, "c3"), (beta, "c9") }.Order(), expired.Order());
        Assert.Equal(["c1"], (await Caches.ListAllAsync(T0)).Select(c => c.Id));
        Assert.False(await Caches.DeleteAsync(beta, "c1"));
        Assert.True(await Caches.DeleteAsync(alpha, "c1"));
        Assert.Empty(await Caches.ListAllAsync(T0));
    }

    [StorageFact]
    public async Task Migrating_again_changes_nothing()
    {
        var project = await Keys.EnsureProjectAsync("alpha");
        await Database.MigrateAsync();
        Assert.Equal(project, await Keys.EnsureProjectAsync("alpha"));
    }

    [StorageFact]
    public async Task Migration_4_gives_hash_derived_key_ids_a_random_id_and_shortens_hints_and_the_keys_keep_working()
    {
        // Rows as older versions wrote them: a seeded key's id from its hash, hints with 8 characters or the key's length.
        var seeded = SHA256.HashData("an-operator-chosen-key"u8);
        var seededId = "k-" + Convert.ToHexStringLower(seeded.AsSpan(0, 6));
        var created = SHA256.HashData("castor_abcdefghijklmnopqrstuvwxyz0123456789ABCD"u8);
        var shortKey = SHA256.HashData("tiny"u8);
        Assert.True(await Keys.AddKeyAsync(new StoredKey(seededId, seeded, "an-o…-key", "from CASTOR_API_KEY", T0), "alpha"));
        Assert.True(await Keys.AddKeyAsync(new StoredKey("k-0123456789ab", created, "castor_abcd…ABCD", null, T0), "alpha"));
        Assert.True(await Keys.AddKeyAsync(new StoredKey("k-ba9876543210", shortKey, "****", null, T0), "beta"));

        await using (var connection = await Database.OpenConnectionAsync())
        await using (var forget = connection.CreateCommand())
        {
            forget.CommandText = "DELETE FROM schema_migrations WHERE version = 4";
            Assert.Equal(1, await forget.ExecuteNonQueryAsync());
        }
        await Database.MigrateAsync();

        var owner = await Keys.FindActiveKeyAsync(seeded);
        Assert.NotNull(owner);
        Assert.NotEqual(seededId, owner.KeyId);
        Assert.Matches("^k-[0-9a-f]{12}$", owner.KeyId);
        Assert.Equal("k-0123456789ab", (await Keys.FindActiveKeyAsync(created))!.KeyId);
        var hints = (await Keys.ListKeysAsync(null)).ToDictionary(k => k.Id, k => k.Hint);
        Assert.Equal("…-key", hints[owner.KeyId]);
        Assert.Equal("castor_…ABCD", hints["k-0123456789ab"]);
        Assert.Equal("****", hints["k-ba9876543210"]);
        Assert.True(await Keys.RevokeKeyAsync(owner.KeyId, T0.AddHours(1)));
    }

    [StorageFact]
    public async Task Keys_are_found_by_hash_listed_and_revoked()
    {
        var hash = SHA256.HashData("secret"u8);
        var key = new StoredKey("k-1", hash, "cas…cret", "laptop", T0);
        Assert.True(await Keys.AddKeyAsync(key, "alpha"));
        Assert.False(await Keys.AddKeyAsync(key with { Id = "k-2" }, "alpha"));

        var owner = await Keys.FindActiveKeyAsync(hash);
        Assert.NotNull(owner);
        Assert.Equal(("k-1", "alpha"), (owner.KeyId, owner.ProjectName));
        Assert.Equal(await Keys.EnsureProjectAsync("alpha"), owner.ProjectId);

        var listed = Assert.Single(await Keys.ListKeysAsync("alpha"));
        Assert.Equal(("k-1", "laptop", T0), (listed.Id, listed.DisplayName, listed.CreatedAt));
        Assert.Empty(await Keys.ListKeysAsync("beta"));
        Assert.Single(await Keys.ListKeysAsync(null));
        Assert.Equal(1, await Keys.CountActiveKeysAsync());

        Assert.True(await Keys.RevokeKeyAsync("k-1", T0.AddHours(1)));
        Assert.False(await Keys.RevokeKeyAsync("k-1", T0.AddHours(2)));
        Assert.Null(await Keys.FindActiveKeyAsync(hash));
        Assert.Equal(T0.AddHours(1), Assert.Single(await Keys.ListKeysAsync(null)).RevokedAt);
        Assert.Equal(0, await Keys.CountActiveKeysAsync());
    }

    [StorageFact]
    public async Task A_key_keeps_its_role_and_keys_are_ordinary_unless_created_admin()
    {
        var adminHash = SHA256.HashData("admin-secret"u8);
        var userHash = SHA256.HashData("user-secret"u8);
        Assert.True(await Keys.AddKeyAsync(new StoredKey("k-admin", adminHash, "…min", "ops", T0, Admin: true), "alpha"));
        Assert.True(await Keys.AddKeyAsync(new StoredKey("k-user", userHash, "…ser", null, T0), "alpha"));

        Assert.True((await Keys.FindActiveKeyAsync(adminHash))!.Admin);
        Assert.False((await Keys.FindActiveKeyAsync(userHash))!.Admin);
        var roles = (await Keys.ListKeysAsync("alpha")).ToDictionary(k => k.Id, k => k.Admin);
        Assert.Equal(new Dictionary<string, bool> { ["k-admin"] = true, ["k-user"] = false }, roles);
    }

    [StorageFact]
    public async Task An_upload_becomes_a_file_in_one_step_and_round_trips_every_field()
    {
        var project = await Keys.EnsureProjectAsync("alpha");
        var session = Upload(project, "up1", "doc", declared: 10);
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(session, Quota));
        // The declared size is reserved at once.
        Assert.Equal(session with { ReservedBytes = 10 }, await Files.FindUploadAsync("up1"));
        Assert.True(await Files.IsClaimedAsync(project, "doc"));
        Assert.Null(await Files.GetAsync(project, "doc"));

        Assert.True(await Files.AdvanceUploadAsync("up1", 0, 6, T0));
        Assert.False(await Files.AdvanceUploadAsync("up1", 0, 8, T0)); // another writer already moved it
        Assert.Equal(6, (await Files.FindUploadAsync("up1"))!.ReceivedBytes);

        var file = File(project, "doc", size: 10, FileState.Processing);
        Assert.Equal(CompleteUploadResult.Completed, await Files.CompleteUploadAsync("up1", file));
        Assert.Equal(CompleteUploadResult.Gone, await Files.CompleteUploadAsync("up1", file));
        Assert.Null(await Files.FindUploadAsync("up1"));
        Assert.False(await Files.UploadExistsAsync("up1"));

        var stored = await Files.GetAsync(project, "doc");
        Assert.NotNull(stored);
        Assert.Equal(file with { Sha256 = stored.Sha256 }, stored);
        Assert.Equal(file.Sha256, stored.Sha256);
        Assert.Equal(FileState.Processing, Assert.Single(await Files.InStateAsync(FileState.Processing, 10)).State);

        Assert.True(await Files.SetStateAsync(project, "doc", FileState.Failed, "not a PDF", T0.AddMinutes(1)));
        stored = await Files.GetAsync(project, "doc");
        Assert.Equal((FileState.Failed, "not a PDF", T0.AddMinutes(1)), (stored!.State, stored.ErrorMessage, stored.UpdateTime));
        Assert.False(await Files.SetStateAsync(project, "missing", FileState.Active, null, T0));
    }

    [StorageFact]
    public async Task A_file_id_is_taken_by_a_file_or_an_upload_of_the_same_project_only()
    {
        var alpha = await Keys.EnsureProjectAsync("alpha");
        var beta = await Keys.EnsureProjectAsync("beta");
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(alpha, "up1", "same"), Quota));
        Assert.Equal(StartUploadResult.NameTaken, await Files.StartUploadAsync(Upload(alpha, "up2", "same"), Quota));
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(beta, "up3", "same"), Quota));

        Assert.Equal(CompleteUploadResult.Completed, await Files.CompleteUploadAsync("up1", File(alpha, "same", 1)));
        Assert.Equal(StartUploadResult.NameTaken, await Files.StartUploadAsync(Upload(alpha, "up4", "same"), Quota));
        Assert.Equal(CompleteUploadResult.Completed, await Files.CompleteUploadAsync("up3", File(beta, "same", 2)));

        // Each project sees its own file under the shared id.
        Assert.Equal(1, (await Files.GetAsync(alpha, "same"))!.SizeBytes);
        Assert.Equal(2, (await Files.GetAsync(beta, "same"))!.SizeBytes);
        Assert.True(await Files.DeleteAsync(alpha, "same"));
        Assert.False(await Files.DeleteAsync(alpha, "same"));
        Assert.NotNull(await Files.GetAsync(beta, "same"));
    }

    [StorageFact]
    public async Task The_quota_counts_files_and_the_declared_size_of_uploads_in_progress()
    {
        var project = await Keys.EnsureProjectAsync("alpha");
        var other = await Keys.EnsureProjectAsync("beta");
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(project, "up1", "a", declared: 600), Quota));
        Assert.Equal(StartUploadResult.QuotaExceeded, await Files.StartUploadAsync(Upload(project, "up2", "b", declared: 401), Quota));
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(project, "up3", "c", declared: 400), Quota));
        Assert.Equal(1000, await Files.UsedBytesAsync(project));
        // Quotas are per project.
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(other, "up4", "d", declared: 1000), Quota));

        Assert.Equal(CompleteUploadResult.Completed, await Files.CompleteUploadAsync("up1", File(project, "a", 600)));
        Assert.True(await Files.DeleteUploadAsync("up3"));
        Assert.Equal(600, await Files.UsedBytesAsync(project));
        // An upload without a declared size reserves bytes before it records them, and counts what it reserved.
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(project, "up5", "e", declared: null), Quota));
        Assert.Equal(600, await Files.UsedBytesAsync(project));
        Assert.False(await Files.AdvanceUploadAsync("up5", 0, 50, T0)); // not reserved yet
        Assert.True(await Files.ReserveUploadAsync("up5", 80, Quota));
        Assert.True(await Files.AdvanceUploadAsync("up5", 0, 50, T0));
        Assert.Equal(680, await Files.UsedBytesAsync(project));
        Assert.True(await Files.ReserveUploadAsync("up5", 60, Quota)); // a reservation never shrinks
        Assert.Equal(680, await Files.UsedBytesAsync(project));
        Assert.False(await Files.ReserveUploadAsync("up5", 401, Quota));
        Assert.True(await Files.ReserveUploadAsync("up5", 400, Quota));
        Assert.Equal(Quota, await Files.UsedBytesAsync(project));
        Assert.False(await Files.ReserveUploadAsync("missing", 1, Quota));

        // Finalizing checks the quota once more, at the file's real size.
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(other, "up6", "f", declared: null), Quota));
        Assert.Equal(CompleteUploadResult.QuotaExceeded, await Files.CompleteUploadAsync("up5", File(project, "e", 401), Quota));
        Assert.NotNull(await Files.FindUploadAsync("up5"));
        Assert.Equal(CompleteUploadResult.Completed, await Files.CompleteUploadAsync("up5", File(project, "e", 50), Quota));
        Assert.Equal(650, await Files.UsedBytesAsync(project));
        Assert.Equal(CompleteUploadResult.Gone, await Files.CompleteUploadAsync("up5", File(project, "e", 50), Quota));
    }

    [StorageFact]
    public async Task Concurrent_reservations_of_one_project_never_pass_the_quota()
    {
        // Twelve uploads (half with a declared size, half reserving chunk by chunk) race for a quota that fits a few:
        // each store serializes the check-and-add, so the total reserved never passes it, and what fits is used.
        const long quota = 10_000;
        var project = await Keys.EnsureProjectAsync("alpha");
        var starts = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            Files.StartUploadAsync(Upload(project, $"up{i}", $"f{i}", declared: i % 2 == 0 ? 3_000 : null), quota)));
        Assert.Equal(3, starts.Where((_, i) => i % 2 == 0).Count(r => r == StartUploadResult.Started));
        Assert.All(starts.Where((_, i) => i % 2 == 1), r => Assert.Equal(StartUploadResult.Started, r));

        var undeclared = Enumerable.Range(0, 12).Where(i => i % 2 == 1).Select(i => $"up{i}").ToList();
        await Task.WhenAll(undeclared.Select(async id =>
        {
            for (var reserved = 100L; reserved <= 3_000; reserved += 100)
            {
                if (!await Files.ReserveUploadAsync(id, reserved, quota)) break;
            }
        }));
        // Steps of 100 fill the last 1,000 bytes exactly, and not one byte more.
        Assert.Equal(quota, await Files.UsedBytesAsync(project));
    }

    [StorageFact]
    public async Task Open_upload_sessions_are_capped_per_project_and_expired_ones_do_not_count()
    {
        var alpha = await Keys.EnsureProjectAsync("alpha");
        var beta = await Keys.EnsureProjectAsync("beta");
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(alpha, "up1", "a") with { ExpirationTime = T0 }, Quota, maxOpenUploads: 2));
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(alpha, "up2", "b"), Quota, maxOpenUploads: 2));
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(alpha, "up3", "c"), Quota, maxOpenUploads: 2));
        Assert.Equal(StartUploadResult.TooManyUploads, await Files.StartUploadAsync(Upload(alpha, "up4", "d"), Quota, maxOpenUploads: 2));
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(beta, "up5", "d"), Quota, maxOpenUploads: 2));
        Assert.True(await Files.DeleteUploadAsync("up3"));
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(alpha, "up4", "d"), Quota, maxOpenUploads: 2));

        // Activity moves a session's expiry.
        Assert.True(await Files.ReserveUploadAsync("up2", 5, Quota));
        Assert.True(await Files.AdvanceUploadAsync("up2", 0, 5, T0.AddHours(5)));
        Assert.Equal(T0.AddHours(5), (await Files.FindUploadAsync("up2"))!.ExpirationTime);
    }

    [StorageFact]
    public async Task Processing_attempts_are_counted_and_read_back()
    {
        var project = await Keys.EnsureProjectAsync("alpha");
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(project, "up1", "doc"), Quota));
        Assert.Equal(CompleteUploadResult.Completed, await Files.CompleteUploadAsync("up1", File(project, "doc", 1, FileState.Processing)));
        Assert.Equal(1, await Files.BeginProcessingAsync(project, "doc"));
        Assert.Equal(2, await Files.BeginProcessingAsync(project, "doc"));
        Assert.Equal(2, Assert.Single(await Files.InStateAsync(FileState.Processing, 10)).ProcessingAttempts);
        Assert.Equal(0, await Files.BeginProcessingAsync(project, "missing"));
    }

    [StorageFact]
    public async Task Listing_pages_newest_first_without_gaps_or_repeats_even_when_times_tie()
    {
        var project = await Keys.EnsureProjectAsync("alpha");
        var other = await Keys.EnsureProjectAsync("beta");
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var id = $"f{i}";
            ids.Add(id);
            Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(project, "up" + i, id), Quota));
            // Three files share one create time: the id breaks the tie.
            Assert.Equal(CompleteUploadResult.Completed, await Files.CompleteUploadAsync("up" + i, File(project, id, i) with { CreateTime = T0.AddSeconds(Math.Min(i, 4)) }));
        }
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(other, "upx", "x"), Quota));
        Assert.Equal(CompleteUploadResult.Completed, await Files.CompleteUploadAsync("upx", File(other, "x", 1)));

        var seen = new List<string>();
        FileCursor? cursor = null;
        while (true)
        {
            var page = await Files.ListAsync(project, 3, cursor);
            seen.AddRange(page.Select(f => f.Id));
            if (page.Count < 3) break;
            cursor = new FileCursor(page[^1].CreateTime, page[^1].Id);
        }
        Assert.Equal(["f6", "f5", "f4", "f3", "f2", "f1", "f0"], seen);
    }

    [StorageFact]
    public async Task Expired_files_and_uploads_are_found_by_time()
    {
        var project = await Keys.EnsureProjectAsync("alpha");
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(project, "up1", "old") with { ExpirationTime = T0.AddHours(1) }, Quota));
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(project, "up2", "new") with { ExpirationTime = T0.AddHours(3) }, Quota));
        Assert.Equal(StartUploadResult.Started, await Files.StartUploadAsync(Upload(project, "up3", "done"), Quota));
        Assert.Equal(CompleteUploadResult.Completed, await Files.CompleteUploadAsync("up3", File(project, "done", 1) with { ExpirationTime = T0.AddHours(2) }));

        Assert.Empty(await Files.ExpiredFilesAsync(T0.AddHours(1), 10));
        Assert.Equal("done", Assert.Single(await Files.ExpiredFilesAsync(T0.AddHours(2), 10)).Id);
        Assert.Equal("up1", Assert.Single(await Files.ExpiredUploadsAsync(T0.AddHours(2), 10)).UploadId);
        Assert.Equal(2, (await Files.ExpiredUploadsAsync(T0.AddHours(3), 10)).Count);
    }

    private static UploadSession Upload(string project, string uploadId, string fileId, long? declared = 1) =>
        new(uploadId, project, fileId, "name of " + fileId, "text/plain", declared, 0, T0, T0.AddDays(7));

    private static StoredFile File(string project, string id, long size, FileState state = FileState.Active) =>
        new(project, id, "name of " + id, "text/plain", size, SHA256.HashData(BitConverter.GetBytes(size)), state, null, T0, T0, T0.AddHours(48));
}

public sealed class SqliteStorageTests : StorageContractTests
{
    private readonly string _folder = Directory.CreateTempSubdirectory("castor-storage").FullName;

    public override async Task InitializeAsync()
    {
        var database = new SqliteDatabase(_folder);
        await database.MigrateAsync();
        Database = database;
    }

    public override Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }
}

[RequiresPostgres]
public sealed class PostgresStorageTests : StorageContractTests
{
    private string? _schema;

    public override async Task InitializeAsync()
    {
        var (connectionString, schema) = await PostgresTestDatabase.CreateSchemaAsync();
        _schema = schema;
        Database = await PostgresTestDatabase.OpenAsync(connectionString);
    }

    public override async Task DisposeAsync()
    {
        if (Database is IAsyncDisposable disposable) await disposable.DisposeAsync();
        if (_schema is not null) await PostgresTestDatabase.DropSchemaAsync(_schema);
    }
}
