namespace Castor.IntegrationTests.Quotas;

/// <summary>`castor projects create|list|set-tier` end to end: the real parser, SQLite under --data, tiers from --config.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ProjectsCliTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("castor-projects").FullName;

    private async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var config = Path.Combine(_data, "castor.json");
        if (!File.Exists(config))
            await File.WriteAllTextAsync(config, """{"Castor":{"Quotas":{"DefaultTier":"free","Tiers":{"free":{"*":{"Rpm":10}},"tier-1":{"*":{"Rpm":1000}}}}}}""");
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            var exit = await Castor.Cli.Program.Main([.. args, "--data", _data, "--config", config]);
            return (exit, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    [Fact]
    public async Task Projects_are_created_listed_and_moved_between_configured_tiers()
    {
        Assert.Equal(0, (await Run("projects", "create", "team-a", "--tier", "tier-1")).Exit);
        Assert.Equal(0, (await Run("projects", "create", "team-b")).Exit);
        var duplicate = await Run("projects", "create", "team-a");
        Assert.Equal(1, duplicate.Exit);
        Assert.Contains("exists already", duplicate.Err);

        var unknown = await Run("projects", "set-tier", "team-b", "gold");
        Assert.Equal(2, unknown.Exit);
        Assert.Contains("'gold' is not a tier in Quotas:Tiers (configured: free, tier-1)", unknown.Err);
        Assert.Equal(1, (await Run("projects", "set-tier", "nobody", "free")).Exit);

        var (exit, list, _) = await Run("projects", "list");
        Assert.Equal(0, exit);
        var lines = list.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^team-a\s+tier-1\s+0 ", lines[1]);
        Assert.Matches(@"^team-b\s+free \(default\)\s+0 ", lines[2]);

        Assert.Equal(0, (await Run("projects", "set-tier", "team-b", "tier-1")).Exit);
        Assert.Equal(0, (await Run("projects", "set-tier", "team-a", "default")).Exit);
        lines = (await Run("projects", "list")).Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^team-a\s+free \(default\)\s+0 ", lines[1]);
        Assert.Matches(@"^team-b\s+tier-1\s+0 ", lines[2]);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }
}
