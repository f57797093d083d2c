using System.CommandLine;
using Castor.Application.Quotas;
using Castor.Server;
using Castor.Storage.Relational;

namespace Castor.Cli;

/// <summary>
/// <c>castor projects create|list|set-tier</c>: projects and their usage tiers, read and written straight in the
/// database (so it works whether or not a server runs; a running server sees a new tier on the project's next request).
/// </summary>
internal static class ProjectsCommand
{
    private const string DefaultTierWord = "default";

    public static Command Create(Option<string?> dataOption, Option<string?> configOption)
    {
        var name = new Argument<string>("name") { Description = "The project's name (1-63 lower-case letters, digits, '-' or '_')." };
        var tier = new Option<string?>("--tier", "-t") { Description = "Its usage tier, one Quotas:Tiers defines (default: Quotas:DefaultTier)." };
        var create = new Command("create", "Create a project (keys made with `castor keys create --project NAME` belong to it).") { name, tier, dataOption, configOption };
        create.SetAction(async (parse, ct) => await WithProjects(parse, dataOption, configOption, async projects =>
        {
            var project = parse.GetValue(name)!;
            if (!await projects.CreateAsync(project, Tier(parse.GetValue(tier)), ct))
            {
                Console.Error.WriteLine($"castor: a project named '{project}' exists already (see castor projects list).");
                return 1;
            }
            Console.Error.WriteLine($"Created project '{project}'.");
            return 0;
        }));

        var list = new Command("list", "List projects (name, tier, active keys).") { dataOption, configOption };
        list.SetAction(async (parse, ct) => await WithProjects(parse, dataOption, configOption, async projects =>
        {
            var all = await projects.ListAsync(ct);
            if (all.Count == 0)
            {
                Console.Error.WriteLine("No projects yet. Create one with: castor projects create NAME");
                return 0;
            }
            Console.WriteLine($"{"PROJECT",-24} {"TIER",-20} {"KEYS",5} CREATED");
            foreach (var p in all)
            {
                var effective = projects.EffectiveTier(p);
                var shown = p.Tier ?? (effective is null ? "(unlimited)" : $"{effective} (default)");
                Console.WriteLine($"{p.Name,-24} {shown,-20} {p.ActiveKeys,5} {p.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}");
            }
            return 0;
        }));

        var setName = new Argument<string>("name") { Description = "The project, as `castor projects list` shows it." };
        var setTier = new Argument<string>("tier") { Description = "A tier Quotas:Tiers defines, or 'default' for Quotas:DefaultTier." };
        var set = new Command("set-tier", "Move a project to another usage tier (its limits change on its next request).") { setName, setTier, dataOption, configOption };
        set.SetAction(async (parse, ct) => await WithProjects(parse, dataOption, configOption, async projects =>
        {
            var project = parse.GetValue(setName)!;
            var target = parse.GetValue(setTier)!;
            if (!await projects.SetTierAsync(project, Tier(target), ct))
            {
                Console.Error.WriteLine($"castor: there is no project named '{project}' (see castor projects list).");
                return 1;
            }
            Console.Error.WriteLine($"Project '{project}' is now in tier {(Tier(target) is null ? "default" : $"'{target}'")}.");
            return 0;
        }));

        return new Command("projects", "Manage projects and their usage tiers (rate limits).") { create, list, set };
    }

    /// <summary>"default" (or nothing) stores no tier, so the project follows Quotas:DefaultTier.</summary>
    private static string? Tier(string? value) => string.IsNullOrWhiteSpace(value) || value == DefaultTierWord ? null : value.Trim();

    private static async Task<int> WithProjects(ParseResult parse, Option<string?> dataOption, Option<string?> configOption, Func<ProjectService, Task<int>> action)
    {
        try
        {
            var options = OptionsLoader.Load(parse.GetValue(configOption));
            var data = parse.GetValue(dataOption) ?? options.Data;
            var database = await CastorStorage.OpenAsync(options, data);
            return await action(new ProjectService(new SqlProjectStore(database), options.Quotas, TimeProvider.System));
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"castor: {ex.Message}");
            return 2;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException)
        {
            Console.Error.WriteLine($"castor: {ex.Message}");
            return 1;
        }
    }
}
