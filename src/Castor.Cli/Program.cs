using System.CommandLine;
using Castor.Application.Keys;
using Castor.Server;
using Castor.Storage.Caches;
using Castor.Storage.Relational;
using Castor.Engine.Models;
using Microsoft.Extensions.Options;

namespace Castor.Cli;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("Castor: the Gemini API, served by open models on your own machine.");
        root.Subcommands.Add(ServeCommand());
        root.Subcommands.Add(KeysCommand());
        root.Subcommands.Add(ProjectsCommand.Create(DataOption, ConfigOption));
        root.Subcommands.Add(CachesCommand());
        root.Subcommands.Add(BatchesCommand.Create(DataOption, ConfigOption));
        root.Subcommands.Add(UsageCommand.Create(DataOption, ConfigOption));
        root.Subcommands.Add(PullCommand.Create(ConfigOption));
        root.Subcommands.Add(ModelsCommand.Create(ConfigOption));
        root.Subcommands.Add(ChatCommand.Create(ConfigOption));
        // chat handles Ctrl+C itself (it stops the answer, not the program), so the parser must not end the process on it.
        var invocation = args is ["chat", ..] ? new InvocationConfiguration { ProcessTerminationTimeout = null } : null;
        return await root.Parse(args).InvokeAsync(invocation);
    }

    private static readonly Option<string?> ConfigOption = new("--config") { Description = "A JSON file with a \"Castor\" section (default: ./castor.json if present)." };
    private static readonly Option<string?> DataOption = new("--data") { Description = "State folder (SQLite database). Default: ./data, or CASTOR_DATA." };

    private static Command ServeCommand()
    {
        var urls = new Option<string?>("--urls") { Description = "Where to listen, e.g. http://127.0.0.1:8787 (';' separates several)." };
        var models = new Option<string[]>("--models", "-m")
        {
            Description = "A folder of .gguf files or one .gguf file; repeat for more. Default: ./models.",
            AllowMultipleArgumentsPerToken = false,
        };
        var threads = new Option<int?>("--threads", "-t") { Description = "CPU threads for decoding a single stream (default: one logical processor fewer than the machine has, at most one per core, so the server keeps a core)." };
        var batchThreads = new Option<int?>("--batch-threads") { Description = "CPU threads for prompts and several sequences at once (default: --threads when given, else all logical processors)." };
        var contextSize = new Option<int?>("--context-size", "-c") { Description = "Tokens per request, prompt and output (default: the model's training context, at most 8192). May exceed the training context." };
        // The numbers come from the engine's own rule, so the help cannot drift from the default it describes.
        var parallel = new Option<int?>("--parallel")
        {
            Description = $"Sequences decoded together per model (default: sized from the context, {EngineOptions.DefaultKvBudget} KV cells: " +
                          $"{EngineOptions.DefaultParallel(2048)} at 2 K, {EngineOptions.DefaultParallel(8192)} at 8 K, at most {EngineOptions.DefaultParallel(1)}).",
        };
        var flashAttention = new Option<string?>("--flash-attention")
        {
            Description = "llama.cpp flash attention: auto (llama.cpp decides), on or off (default: off on the CPU, where it slows long prompts; auto with a GPU).",
        };
        flashAttention.AcceptOnlyFromAmong("auto", "on", "off");
        var defaultModel = new Option<string?>("--default-model") { Description = "Model that Gemini model names resolve to (default: the first found)." };
        var publicUrl = new Option<string?>("--public-url") { Description = "The URL clients reach the server at, for upload and file URLs (behind a proxy). Default: the address a request arrived on, or CASTOR_PUBLIC_URL." };

        var noPull = new Option<bool>("--no-pull") { Description = "Do not pull the default model when the models folder is empty (AutoPull: false)." };

        var command = new Command("serve", "Start the server.") { urls, models, DataOption, threads, batchThreads, contextSize, parallel, flashAttention, defaultModel, publicUrl, noPull, ConfigOption };
        command.SetAction(async (parse, cancellationToken) =>
        {
            CastorOptions options;
            try
            {
                options = OptionsLoader.Load(parse.GetValue(ConfigOption));
            }
            catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or FormatException or InvalidOperationException)
            {
                Console.Error.WriteLine($"castor: {ex.Message}");
                return 2;
            }
            if (parse.GetValue(urls) is { } u) options.Urls = u;
            if (parse.GetValue(models) is { Length: > 0 } m) options.Models = m.ToList();
            if (parse.GetValue(DataOption) is { } d) options.Data = d;
            if (parse.GetValue(threads) is { } t) options.Threads = t;
            if (parse.GetValue(batchThreads) is { } bt) options.BatchThreads = bt;
            if (parse.GetValue(contextSize) is { } c) options.ContextSize = c;
            if (parse.GetValue(parallel) is { } p) options.Parallel = p;
            if (parse.GetValue(defaultModel) is { } dm) options.DefaultModel = dm;
            if (parse.GetValue(publicUrl) is { } pu) options.PublicUrl = pu;
            if (parse.GetValue(flashAttention) is { } fa) options.FlashAttention = Enum.Parse<Castor.Engine.Models.FlashAttentionMode>(fa, ignoreCase: true);

            // Before the host: the pulled model is then found like any other, and Ctrl+C during the pull stops castor.
            try
            {
                await FirstRunPull.RunAsync(options, parse.GetValue(noPull), CastorOptions.DefaultModelsFolder, Console.Out, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("castor: stopped while pulling the default model; the next castor serve (or castor pull) resumes it.");
                return 130;
            }

            try
            {
                await using var app = await CastorHost.BuildAsync(options, Console.Out, cancellationToken: cancellationToken);
                await app.RunAsync();
                return 0;
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or UnauthorizedAccessException or ArgumentException or OptionsValidationException)
            {
                Console.Error.WriteLine($"castor: could not start: {ex.Message}");
                return 1;
            }
        });
        return command;
    }

    private static Command KeysCommand()
    {
        var project = new Option<string>("--project", "-p") { Description = "Project the key belongs to.", DefaultValueFactory = _ => ApiKeyService.DefaultProject };
        var name = new Option<string?>("--name") { Description = "A label to recognise the key by." };
        var admin = new Option<bool>("--admin") { Description = "An admin key: it also manages projects, keys and tiers and reads every project's usage through the API." };
        var create = new Command("create", "Create an API key and print it (shown once; only its hash is stored).") { project, name, admin, DataOption, ConfigOption };
        create.SetAction(async (parse, ct) => await WithKeys(parse, async keys =>
        {
            var created = await keys.CreateKeyAsync(parse.GetValue(project)!, parse.GetValue(name), parse.GetValue(admin), ct);
            Console.Error.WriteLine($"Created {(created.Admin ? "admin key" : "key")} {created.Id} for project '{created.Project}'. Copy it now: it cannot be shown again.");
            Console.WriteLine(created.Key);
            return 0;
        }));

        var filter = new Option<string?>("--project", "-p") { Description = "Only this project's keys." };
        var list = new Command("list", "List keys (id, project, hint, state).") { filter, DataOption, ConfigOption };
        list.SetAction(async (parse, ct) => await WithKeys(parse, async keys =>
        {
            var all = await keys.ListAsync(parse.GetValue(filter), ct);
            if (all.Count == 0)
            {
                Console.Error.WriteLine("No keys yet. Create one with: castor keys create --project default");
                return 0;
            }
            Console.WriteLine($"{"ID",-16} {"PROJECT",-20} {"KEY",-22} {"ROLE",-6} {"CREATED",-20} STATE");
            foreach (var k in all)
                Console.WriteLine($"{k.Id,-16} {k.ProjectName,-20} {k.Hint,-22} {(k.Admin ? "admin" : "user"),-6} {k.CreatedAt.UtcDateTime,-20:yyyy-MM-dd HH:mm:ss} {(k.RevokedAt is null ? "active" : "revoked " + k.RevokedAt.Value.UtcDateTime.ToString("yyyy-MM-dd"))}");
            return 0;
        }));

        var id = new Argument<string>("id") { Description = "The key's id, as `castor keys list` shows it." };
        var revoke = new Command("revoke", "Revoke a key; calls with it are refused from then on.") { id, DataOption, ConfigOption };
        revoke.SetAction(async (parse, ct) => await WithKeys(parse, async keys =>
        {
            var keyId = parse.GetValue(id)!;
            if (await keys.RevokeAsync(keyId, ct))
            {
                Console.Error.WriteLine($"Revoked {keyId}.");
                return 0;
            }
            Console.Error.WriteLine($"castor: no active key has the id '{keyId}' (see castor keys list).");
            return 1;
        }));

        return new Command("keys", "Manage API keys and projects.") { create, list, revoke };
    }

    private static Command CachesCommand()
    {
        var list = new Command("list", "List live cached contents of every project (name, project, model, tokens, snapshot on disk, expiry).") { DataOption, ConfigOption };
        list.SetAction(async (parse, ct) =>
        {
            try
            {
                var options = OptionsLoader.Load(parse.GetValue(ConfigOption));
                var data = parse.GetValue(DataOption) ?? options.Data;
                var database = await CastorStorage.OpenAsync(options, data, ct);
                var snapshots = new SnapshotFileStore(Path.Combine(data, "caches"));
                var caches = await new SqlCachedContentStore(database).ListAllAsync(DateTimeOffset.UtcNow, ct);
                if (caches.Count == 0)
                {
                    Console.Error.WriteLine("No cached contents.");
                    return 0;
                }
                Console.WriteLine($"{"NAME",-32} {"PROJECT",-16} {"MODEL",-28} {"TOKENS",8} {"SNAPSHOT",12} {"EXPIRES (UTC)",-20} DISPLAY NAME");
                long total = 0;
                foreach (var c in caches)
                {
                    var file = new FileInfo(snapshots.PathOf(c.ProjectId, c.Id));
                    var bytes = file.Exists ? file.Length : 0;
                    total += bytes;
                    Console.WriteLine($"{"cachedContents/" + c.Id,-32} {c.ProjectId,-16} {c.Model,-28} {c.TokenCount,8} {(bytes == 0 ? "none" : $"{bytes / 1048576.0:0.0} MiB"),12} {c.ExpireTime.UtcDateTime,-20:yyyy-MM-dd HH:mm:ss} {c.DisplayName}");
                }
                Console.WriteLine($"{caches.Count} cached contents, {total / 1048576.0:0.0} MiB of KV snapshots on disk (Caches:MaxBytes {options.Caches.MaxBytes / 1048576.0:0} MiB).");
                return 0;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException or InvalidDataException or FormatException)
            {
                Console.Error.WriteLine($"castor: {ex.Message}");
                return 1;
            }
        });
        return new Command("caches", "Inspect cached contents (explicit context caches) and their KV snapshots.") { list };
    }

    private static async Task<int> WithKeys(ParseResult parse, Func<ApiKeyService, Task<int>> action)
    {
        try
        {
            var options = OptionsLoader.Load(parse.GetValue(ConfigOption));
            var data = parse.GetValue(DataOption) ?? options.Data;
            var database = await CastorStorage.OpenAsync(options, data);
            return await action(new ApiKeyService(new SqlKeyStore(database), TimeProvider.System));
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"castor: {ex.Message}");
            return 2;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FileNotFoundException or System.Data.Common.DbException)
        {
            Console.Error.WriteLine($"castor: {ex.Message}");
            return 1;
        }
    }
}
