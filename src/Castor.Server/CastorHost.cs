using System.Diagnostics;
using Castor.Api.Gemini;
using Castor.Api.Gemini.Infrastructure;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Models;
using Castor.Engine.Models;
using Castor.Storage.Keys;
using Castor.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Castor.Server;

/// <summary>Composes the layers into one ASP.NET Core application on Kestrel. The CLI and the integration tests both start Castor through here.</summary>
public static class CastorHost
{
    /// <summary>Opens the data folder, loads the models and builds the web application (not yet started).</summary>
    public static async Task<WebApplication> BuildAsync(CastorOptions options, TextWriter? console = null, Action<ILoggingBuilder>? configureLogging = null,
        CancellationToken cancellationToken = default)
    {
        console ??= TextWriter.Null;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "Castor",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseUrls(options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // The 20 MB limit is enforced while reading (RequestBody): when Kestrel enforces it, it cuts the connection
            // mid-upload and the client sees a broken pipe instead of the API's 400.
            kestrel.Limits.MaxRequestBodySize = null;
            // Non-ASCII header bytes (a mistyped key) would make Kestrel answer a bare 400; Latin-1 lets them reach
            // the key check, which answers in the API's error shape.
            kestrel.RequestHeaderEncodingSelector = _ => System.Text.Encoding.Latin1;
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("llama.cpp", LogLevel.Warning);
        // Start-up failures (port in use, …) are reported by the CLI in one line; the host would add a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        configureLogging?.Invoke(builder.Logging);

        var database = new SqliteDatabase(options.Data);
        await database.MigrateAsync(cancellationToken).ConfigureAwait(false);

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton<IKeyStore, SqliteKeyStore>();
        builder.Services.AddSingleton<ApiKeyService>();
        builder.Services.AddSingleton<GenerationService>();
        builder.Services.AddSingleton(sp => LoadModels(options, sp.GetRequiredService<ILoggerFactory>(), console));

        var app = builder.Build();
        // Models load before the first request, not lazily inside it.
        var registry = app.Services.GetRequiredService<ModelRegistry>();

        var keys = app.Services.GetRequiredService<ApiKeyService>();
        if (!string.IsNullOrWhiteSpace(options.ApiKey))
            await keys.SeedKeyAsync(options.ApiKey.Trim(), ApiKeyService.DefaultProject, cancellationToken).ConfigureAwait(false);

        app.UseGeminiApi();
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/", () => Results.Text(
            $"Castor serves the Gemini API at /v1beta. Models: {string.Join(", ", registry.Models.Select(m => m.Id))}.\n"));
        app.MapGeminiApi();

        app.Lifetime.ApplicationStarted.Register(() => PrintBanner(app, options, database, registry, keys, console));
        return app;
    }

    /// <summary>The addresses Kestrel actually bound (port 0 becomes a real port).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    private static ModelRegistry LoadModels(CastorOptions options, ILoggerFactory loggers, TextWriter console)
    {
        var logger = loggers.CreateLogger("Castor.Models");
        NativeLogging.RouteTo(loggers.CreateLogger("llama.cpp"));
        var engine = new EngineOptions
        {
            Threads = options.Threads,
            ContextSize = options.ContextSize,
            Parallel = options.Parallel,
            MaxQueue = options.MaxQueue,
        };

        var specs = new List<ModelSpec>();
        foreach (var (id, settings) in options.ModelSettings)
        {
            if (string.IsNullOrWhiteSpace(settings.Path)) continue;
            specs.Add(new ModelSpec(id.ToLowerInvariant(), Path.GetFullPath(settings.Path), settings.ChatTemplate, settings.ContextSize, settings.DisplayName));
        }
        var locations = options.Models.Count > 0 ? options.Models : [CastorOptions.DefaultModelsFolder];
        foreach (var (id, path) in GgufDiscovery.Find(locations, warning => console.WriteLine("  warning: " + warning)))
        {
            if (specs.Any(s => s.Id == id || s.Path == path)) continue;
            var settings = options.ModelSettings.GetValueOrDefault(id);
            specs.Add(new ModelSpec(id, path, settings?.ChatTemplate, settings?.ContextSize, settings?.DisplayName));
        }

        var models = new List<LlamaModel>();
        foreach (var spec in specs)
        {
            var size = new FileInfo(spec.Path).Length;
            console.WriteLine($"Loading {spec.Id} ({FormatBytes(size)}) from {spec.Path} …");
            var clock = Stopwatch.StartNew();
            try
            {
                models.Add(LlamaModel.Load(spec, engine, logger));
                console.WriteLine($"  loaded in {clock.Elapsed.TotalSeconds:0.0} s");
            }
            catch (Exception ex)
            {
                // One unreadable file must not keep the server (and the other models) down.
                console.WriteLine($"  could not load {spec.Id}: {ex.Message}");
                logger.LogDebug(ex, "Could not load model {Model} from {Path}", spec.Id, spec.Path);
            }
        }

        var aliases = new Dictionary<string, string>(options.Aliases, StringComparer.OrdinalIgnoreCase);
        foreach (var (id, settings) in options.ModelSettings)
            foreach (var alias in settings.Aliases)
                aliases[alias] = id.ToLowerInvariant();
        var loaded = models.Select(m => m.Id).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, target) in aliases.ToList())
        {
            if (loaded.Contains(ModelRegistry.StripPrefix(target))) continue;
            console.WriteLine($"  warning: alias '{alias}' points to '{target}', which is not loaded; ignored.");
            aliases.Remove(alias);
        }
        return new ModelRegistry(models, aliases, options.DefaultModel);
    }

    private static void PrintBanner(WebApplication app, CastorOptions options, SqliteDatabase database, ModelRegistry registry, ApiKeyService keys, TextWriter console)
    {
        var addresses = Addresses(app);
        console.WriteLine();
        console.WriteLine("Castor is serving the Gemini API.");
        foreach (var address in addresses)
            console.WriteLine($"  Listening on  {address}/v1beta   (point an SDK's base URL at {address})");
        console.WriteLine($"  Data          {Path.GetFullPath(options.Data)}  (SQLite: {database.FilePath})");
        if (registry.Models.Count == 0)
        {
            var where = options.Models.Count > 0 ? string.Join(", ", options.Models) : Path.GetFullPath(CastorOptions.DefaultModelsFolder);
            console.WriteLine($"  Models        none found in {where}.");
            console.WriteLine("                Put a .gguf file there, or start with --models <folder or .gguf file>; generation calls fail until then.");
        }
        else
        {
            foreach (var m in registry.Models)
                console.WriteLine($"  Model         {m.Id}  ({m.Architecture}, context {m.ContextSize}, chat template: {m.Template.Name}){(m == registry.DefaultGenerative ? "  [default]" : "")}");
            foreach (var group in registry.Aliases.GroupBy(a => a.Target.Id))
                console.WriteLine($"  Aliases       {string.Join(", ", group.Select(a => a.Alias))} → {group.Key}");
        }

        var activeKeys = keys.CountActiveAsync().GetAwaiter().GetResult();
        if (activeKeys == 0)
        {
            console.WriteLine("  Keys          none yet: every API call needs one. Create a key with");
            console.WriteLine($"                  castor keys create --project default --data {options.Data}");
            console.WriteLine("                or set CASTOR_API_KEY before starting the server.");
        }
        else
        {
            console.WriteLine($"  Keys          {activeKeys} active (castor keys list)");
        }
        console.WriteLine("Press Ctrl+C to stop.");
        console.Flush();
    }

    private static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
