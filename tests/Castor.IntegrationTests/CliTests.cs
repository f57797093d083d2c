using System.Text;
using Castor.Storage.Relational;
using Castor.Storage.Sqlite;

namespace Castor.IntegrationTests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "console";
}

/// <summary>`castor keys …` end to end: the real command-line parser, SQLite under --data, stdout and stderr.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class CliTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("castor-cli").FullName;

    private static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            var exit = await Castor.Cli.Program.Main(args);
            return (exit, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    [Fact]
    public async Task Keys_create_prints_a_key_that_is_stored_only_as_a_hash()
    {
        var (exit, stdout, stderr) = await Run("keys", "create", "--project", "alpha", "--data", _data);

        Assert.Equal(0, exit);
        var key = stdout.Trim();
        Assert.StartsWith("castor_", key);
        Assert.Contains("alpha", stderr);

        // WAL mode may keep fresh rows in the -wal file; look at every file of the database.
        var bytes = Directory.GetFiles(_data).SelectMany(File.ReadAllBytes).ToArray();
        Assert.DoesNotContain(key, Encoding.UTF8.GetString(bytes));
        Assert.DoesNotContain(key, Encoding.Latin1.GetString(bytes));
    }

    [Fact]
    public async Task Keys_list_shows_hints_and_revoke_marks_the_key_revoked()
    {
        var (_, created, _) = await Run("keys", "create", "--project", "beta", "--name", "laptop", "--data", _data);
        var key = created.Trim();

        var (listExit, list, _) = await Run("keys", "list", "--data", _data);
        Assert.Equal(0, listExit);
        Assert.Contains("beta", list);
        Assert.Contains("active", list);
        Assert.DoesNotContain(key, list);
        var id = list.Split('\n').Single(l => l.Contains("beta")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];

        var (revokeExit, _, revokeErr) = await Run("keys", "revoke", id, "--data", _data);
        Assert.Equal(0, revokeExit);
        Assert.Contains(id, revokeErr);

        var (_, after, _) = await Run("keys", "list", "--project", "beta", "--data", _data);
        Assert.Contains("revoked", after);

        var (again, _, err) = await Run("keys", "revoke", id, "--data", _data);
        Assert.Equal(1, again);
        Assert.Contains("no active key", err);
    }

    [Fact]
    public async Task An_invalid_project_name_is_a_usage_error()
    {
        var (exit, _, err) = await Run("keys", "create", "--project", "Not Valid!", "--data", _data);
        Assert.Equal(2, exit);
        Assert.Contains("not a valid project name", err);
    }

    [Fact]
    public async Task A_key_created_by_the_cli_opens_the_api()
    {
        var (_, created, _) = await Run("keys", "create", "--project", "gamma", "--data", _data);
        var database = new SqliteDatabase(_data);
        var keys = new Castor.Application.Keys.ApiKeyService(new SqlKeyStore(database), TimeProvider.System);
        var caller = await keys.AuthenticateAsync(created.Trim());
        Assert.Equal("gamma", caller.ProjectName);
    }

    [Fact]
    public async Task Caches_list_shows_every_projects_live_caches_and_their_snapshot_size()
    {
        var (emptyExit, _, none) = await Run("caches", "list", "--data", _data);
        Assert.Equal(0, emptyExit);
        Assert.Contains("No cached contents", none);

        var database = new SqliteDatabase(_data);
        await database.MigrateAsync();
        var project = await new SqlKeyStore(database).EnsureProjectAsync("delta");
        var now = DateTimeOffset.UtcNow;
        var caches = new SqlCachedContentStore(database);
        await caches.InsertAsync(new Castor.Storage.Caches.StoredCachedContent(project, "live1", "models/gemini-2.5-flash", "doc", "{}", 1234, now, now, now.AddHours(1)));
        await caches.InsertAsync(new Castor.Storage.Caches.StoredCachedContent(project, "gone1", "models/gemini-2.5-flash", null, "{}", 99, now.AddHours(-2), now.AddHours(-2), now.AddHours(-1)));
        await new Castor.Storage.Caches.SnapshotFileStore(Path.Combine(_data, "caches")).WriteAsync(project, "live1", "id", [1, 2], new byte[3 * 1024 * 1024]);

        var (exit, list, _) = await Run("caches", "list", "--data", _data);
        Assert.Equal(0, exit);
        var row = list.Split('\n').Single(l => l.Contains("cachedContents/live1"));
        Assert.Contains(project, row);
        Assert.Contains("1234", row);
        Assert.Contains("3.0 MiB", row);
        Assert.DoesNotContain("gone1", list);
    }

    [Fact]
    public async Task Batches_list_get_and_cancel_show_a_jobs_progress_and_cancel_it()
    {
        await Run("keys", "create", "--project", "gamma", "--data", _data);
        var database = new SqliteDatabase(_data);
        string projectId;
        await using (var connection = await database.OpenAsync())
        await using (var query = connection.CreateCommand())
        {
            query.CommandText = "SELECT id FROM projects WHERE name = 'gamma'";
            projectId = (string)(await query.ExecuteScalarAsync())!;
        }
        var store = new SqlBatchStore(database);
        var now = DateTimeOffset.UtcNow;
        await store.CreateAsync(new Castor.Storage.Batches.StoredBatch("clijob", projectId, "generateContent", "gemini", "models/m", "labels", null, null,
            Castor.Storage.Batches.BatchState.Pending, null, 0, false, now, now, null, now.AddHours(1)),
            new[] { new Castor.Storage.Batches.NewBatchRequest("a", null, "{}", null), new("b", null, null, "{\"code\":400}") }.ToAsyncEnumerable());

        var (listExit, list, _) = await Run("batches", "list", "--data", _data);
        Assert.Equal(0, listExit);
        Assert.Contains("batches/clijob", list);
        Assert.Contains("1/2 (50%)", list);

        var (getExit, get, _) = await Run("batches", "get", "batches/clijob", "--data", _data);
        Assert.Equal(0, getExit);
        Assert.Contains("PENDING", get);
        Assert.Contains("0 succeeded, 1 failed, 1 pending", get);

        var (cancelExit, _, cancelled) = await Run("batches", "cancel", "clijob", "--data", _data);
        Assert.Equal(0, cancelExit);
        Assert.Contains("Cancelled batches/clijob", cancelled);
        Assert.Contains("CANCELLED", (await Run("batches", "get", "clijob", "--data", _data)).Out);

        var (missingExit, _, missing) = await Run("batches", "get", "nope", "--data", _data);
        Assert.Equal(1, missingExit);
        Assert.Contains("no batch job", missing);
    }

    public void Dispose()
    {
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }
}
