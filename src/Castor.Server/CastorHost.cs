using System.Diagnostics;
using Castor.Api.Gemini;
using Castor.Api.Gemini.Infrastructure;
using Castor.Api.Hosting;
using Castor.Application;
using Castor.Application.Files;
using Castor.Engine;
using Castor.Api.OpenAI;
using Castor.Application.Embeddings;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Limits;
using Castor.Application.Models;
using Castor.Engine.Embedding;
using Castor.Engine.Models;
using Castor.Storage.Relational;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

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

        var database = await CastorStorage.OpenAsync(options, cancellationToken: cancellationToken).ConfigureAwait(false);

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(new PublicUrl(options.PublicUrl));
        builder.Services.AddSingleton(TimeProvider.System);
        // Each layer gets its own typed options from the one bound root; each default is defined in the layer's type.
        builder.Services.AddCastorEngine(engine =>
        {
            engine.Threads = options.Threads;
            engine.ContextSize = options.ContextSize;
            engine.Parallel = options.Parallel;
            engine.MaxQueue = options.MaxQueue;
            engine.FlashAttention = options.FlashAttention;
            // Zero means the engine's default; anything else (a negative value too, which validation reports) is the user's.
            if (options.Limits.GrammarStepTimeout != TimeSpan.Zero) engine.GrammarStepTimeout = options.Limits.GrammarStepTimeout;
        });
        // The bound root, for the composition root's own settings (Urls, Data, PublicUrl, ModelSettings, ApiKey).
        builder.Services.AddBoundOptions(options);
        builder.Services.AddCastorStorage(options, database);
        builder.Services.AddCastorApplication(
            generation: g => g.SharePrefixesAcrossProjects = options.Cache.ShareAcrossProjects,
            embeddings: e => e.MaxBatchRequests = options.MaxEmbedBatchRequests);
        // The Files section is bound straight into the application's FileLimits: the layer gets that object, validated.
        builder.Services.AddBoundOptions(options.Files);
        builder.Services.AddOptions<RequestLimitSettings>().Configure<ModelRegistry>((limits, registry) => ResolveLimits(options, registry, limits));
        builder.Services.AddCastorApi(defaultErrorWriter: GeminiErrors.Instance);
        builder.Services.AddSingleton(sp => LoadModels(options, sp.GetRequiredService<EngineOptions>(), sp.GetRequiredService<ILoggerFactory>(), console));

        var app = builder.Build();
        // A bad setting stops the start before any model loads, with a message naming the setting (ValidateOnStart
        // would report it too, but only once the models had loaded and Kestrel was about to bind).
        _ = app.Services.GetRequiredService<IOptions<EngineOptions>>().Value;
        _ = app.Services.GetRequiredService<IOptions<FileLimits>>().Value;
        _ = app.Services.GetRequiredService<IOptions<EmbeddingOptions>>().Value;
        // Models load before the first request, not lazily inside it.
        var registry = app.Services.GetRequiredService<ModelRegistry>();
        // Limits are resolved now (their defaults depend on the models), so a bad setting stops the start rather than the first request.
        app.Services.GetRequiredService<RequestLimitSettings>();

        var keys = app.Services.GetRequiredService<ApiKeyService>();
        if (!string.IsNullOrWhiteSpace(options.ApiKey))
            await keys.SeedKeyAsync(options.ApiKey.Trim(), ApiKeyService.DefaultProject, cancellationToken).ConfigureAwait(false);

        app.UseCastorApi();
        // Every route needs a key unless it says otherwise: only these two are public.
        app.MapGet("/healthz", () => Results.Text("ok")).AllowAnonymous();
        app.MapGet("/", () => Results.Text(
            $"Castor serves the Gemini API at /v1beta. Models: {string.Join(", ", registry.Models.Select(m => m.Id))}.\n")).AllowAnonymous();
        app.MapGeminiApi();
        app.MapOpenAIApi();

        app.Lifetime.ApplicationStarted.Register(() => PrintBanner(app, options, database, registry, keys, console));
        return app;
    }

    /// <summary>
    /// Configured limits over <paramref name="limits"/>' own defaults; the concurrency defaults are sized from the loaded
    /// models' parallel sequences and the queue. Zero means the default; a negative value is kept, for validation to report by name.
    /// </summary>
    internal static void ResolveLimits(CastorOptions options, ModelRegistry registry, RequestLimitSettings limits)
    {
        var configured = options.Limits;
        var parallel = registry.Models.Count == 0 ? 1 : registry.Models.Max(m => m.Scheduler.Options.Parallel);
        var (perKey, perProject) = RequestLimitSettings.DefaultConcurrency(parallel, options.MaxQueue);
        limits.MaxConcurrentRequestsPerKey = configured.MaxConcurrentRequestsPerKey != 0 ? configured.MaxConcurrentRequestsPerKey : perKey;
        limits.MaxConcurrentRequestsPerProject = configured.MaxConcurrentRequestsPerProject != 0 ? configured.MaxConcurrentRequestsPerProject : perProject;
        if (configured.RequestTimeout != TimeSpan.Zero) limits.RequestTimeout = configured.RequestTimeout;
        if (configured.RequestBodyMemory != 0) limits.RequestBodyMemory = configured.RequestBodyMemory;
    }

    /// <summary>The addresses Kestrel actually bound (port 0 becomes a real port).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    private static ModelRegistry LoadModels(CastorOptions options, EngineOptions engine, ILoggerFactory loggers, TextWriter console)
    {
        var logger = loggers.CreateLogger("Castor.Models");
        NativeLogging.RouteTo(loggers.CreateLogger("llama.cpp"));

        // A GGUF is a generative or an embedding model, as configured or as its metadata says. The same file may be
        // configured as both (under two ids): each kind gets its own context.
        var specs = new List<ModelSpec>();
        var embeddingSpecs = new List<(EmbeddingModelSpec Spec, ModelSettings? Settings)>();
        foreach (var (id, settings) in options.ModelSettings)
        {
            if (string.IsNullOrWhiteSpace(settings.Path)) continue;
            var path = Path.GetFullPath(settings.Path);
            if (IsEmbeddingModel(settings, path))
                embeddingSpecs.Add((EmbeddingSpec(id.ToLowerInvariant(), path, settings), settings));
            else
                specs.Add(new ModelSpec(id.ToLowerInvariant(), path, settings.ChatTemplate, settings.ContextSize, settings.DisplayName, Thinking(settings), settings.FlashAttention));
        }
        var locations = options.Models.Count > 0 ? options.Models : [CastorOptions.DefaultModelsFolder];
        foreach (var (id, path) in GgufDiscovery.Find(locations, warning => console.WriteLine("  warning: " + warning)))
        {
            var settings = options.ModelSettings.GetValueOrDefault(id);
            if (IsEmbeddingModel(settings, path))
            {
                if (embeddingSpecs.Any(e => e.Spec.Id == id || e.Spec.Path == path) || specs.Any(s => s.Id == id)) continue;
                embeddingSpecs.Add((EmbeddingSpec(id, path, settings), settings));
            }
            else
            {
                if (specs.Any(s => s.Id == id || s.Path == path) || embeddingSpecs.Any(e => e.Spec.Id == id)) continue;
                specs.Add(new ModelSpec(id, path, settings?.ChatTemplate, settings?.ContextSize, settings?.DisplayName, Thinking(settings), settings?.FlashAttention));
            }
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

        var embeddings = new List<EmbeddingModelEntry>();
        if (options.BuiltinEmbeddingModel)
        {
            var settings = options.ModelSettings.GetValueOrDefault(MiniLmEmbedder.ModelId);
            console.WriteLine($"Loading {MiniLmEmbedder.ModelId} (built in: all-MiniLM-L6-v2 on ONNX Runtime) …");
            LoadEmbedding(MiniLmEmbedder.ModelId, settings, () => MiniLmEmbedder.Load(engine, logger, MiniLmEmbedder.ModelId, settings?.ContextSize, settings?.DisplayName),
                embeddings, console, logger);
        }
        foreach (var (spec, settings) in embeddingSpecs)
        {
            if (embeddings.Any(e => e.Id == spec.Id) || models.Any(m => m.Id == spec.Id))
            {
                console.WriteLine($"  warning: a model with id '{spec.Id}' is already loaded; {spec.Path} is skipped.");
                continue;
            }
            console.WriteLine($"Loading {spec.Id} ({FormatBytes(new FileInfo(spec.Path).Length)}) from {spec.Path} as an embedding model …");
            LoadEmbedding(spec.Id, settings, () => LlamaEmbedder.Load(spec, engine, logger), embeddings, console, logger);
        }

        var aliases = new Dictionary<string, string>(options.Aliases, StringComparer.OrdinalIgnoreCase);
        foreach (var (id, settings) in options.ModelSettings)
            foreach (var alias in settings.Aliases)
                aliases[alias] = id.ToLowerInvariant();
        var loaded = models.Select(m => m.Id).Concat(embeddings.Select(e => e.Id)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, target) in aliases.ToList())
        {
            if (loaded.Contains(ModelRegistry.StripPrefix(target))) continue;
            console.WriteLine($"  warning: alias '{alias}' points to '{target}', which is not loaded; ignored.");
            aliases.Remove(alias);
        }
        return new ModelRegistry(models, aliases, options.DefaultModel, embeddings, options.DefaultEmbeddingModel);
    }

    private static void LoadEmbedding(string id, ModelSettings? settings, Func<EmbeddingModel> load, List<EmbeddingModelEntry> into, TextWriter console, ILogger logger)
    {
        var clock = Stopwatch.StartNew();
        EmbeddingModel model;
        try
        {
            model = load();
        }
        catch (Exception ex)
        {
            console.WriteLine($"  could not load {id}: {ex.Message}");
            logger.LogDebug(ex, "Could not load embedding model {Model}", id);
            return;
        }
        try
        {
            // A mistyped prompt style or task type is a configuration error, reported at start-up like an unknown default model.
            into.Add(new EmbeddingModelEntry(model, TaskPrompts.For(model.Info, settings?.PromptStyle, settings?.TaskPrompts)));
        }
        catch
        {
            model.Dispose();
            throw;
        }
        console.WriteLine($"  loaded in {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>Configuration decides; otherwise the GGUF's metadata (a pooling type, or an encoder architecture).</summary>
    private static bool IsEmbeddingModel(ModelSettings? settings, string path)
    {
        if (settings?.Embedding is { } configured) return configured;
        if (settings?.Pooling is not null || settings?.PromptStyle is not null || settings?.TaskPrompts.Count > 0) return true;
        try
        {
            return File.Exists(path) && LlamaEmbedder.IsEmbeddingModel(path);
        }
        catch (Exception)
        {
            // An unreadable file is reported when it fails to load as a generative model.
            return false;
        }
    }

    private static EmbeddingModelSpec EmbeddingSpec(string id, string path, ModelSettings? settings)
    {
        EmbeddingPooling? pooling = settings?.Pooling?.Trim().ToLowerInvariant() switch
        {
            null or "" => null,
            "mean" => EmbeddingPooling.Mean,
            "cls" => EmbeddingPooling.Cls,
            "last" => EmbeddingPooling.Last,
            _ => throw new InvalidOperationException($"ModelSettings:{id}:Pooling is '{settings.Pooling}'; use mean, cls or last."),
        };
        return new EmbeddingModelSpec(id, path, pooling, settings?.ContextSize, settings?.DisplayName);
    }

    private static ThinkingMarkers? Thinking(ModelSettings? settings) =>
        settings?.Thinking is { } t ? new ThinkingMarkers(t.Start, t.End, t.StartsInThought) : null;

    private static void PrintBanner(WebApplication app, CastorOptions options, IRelationalDatabase database, ModelRegistry registry, ApiKeyService keys, TextWriter console)
    {
        var addresses = Addresses(app);
        console.WriteLine();
        console.WriteLine("Castor is serving the Gemini API.");
        foreach (var address in addresses)
            console.WriteLine($"  Listening on  {address}/v1beta   (point an SDK's base URL at {address})");
        console.WriteLine($"  Data          {Path.GetFullPath(options.Data)}  ({database.Description})");
        if (registry.Models.Count == 0)
        {
            var where = options.Models.Count > 0 ? string.Join(", ", options.Models) : Path.GetFullPath(CastorOptions.DefaultModelsFolder);
            console.WriteLine($"  Models        none found in {where}.");
            console.WriteLine("                Put a .gguf file there, or start with --models <folder or .gguf file>; generation calls fail until then.");
        }
        else
        {
            foreach (var m in registry.Models)
                console.WriteLine($"  Model         {m.Id}  ({m.Architecture}, {m.Parallel} parallel sequences × context {m.ContextSize} = {m.KvCells} KV cells, flash attention {FlashAttention.Describe(m.FlashAttentionSetting)}, chat template: {m.Template.Name}){(m == registry.DefaultGenerative ? "  [default]" : "")}");
            foreach (var group in registry.Aliases.GroupBy(a => a.Target.Id))
                console.WriteLine($"  Aliases       {string.Join(", ", group.Select(a => a.Alias))} → {group.Key}");
        }
        foreach (var e in registry.EmbeddingModels)
            console.WriteLine($"  Embedding     {e.Id}  ({e.Info.Runtime}, {e.Info.Dimensions} dimensions, prompts: {e.Prompts.Style}){(e == registry.DefaultEmbedding ? "  [default]" : "")}");
        foreach (var group in registry.EmbeddingAliases.GroupBy(a => a.Target.Id))
            console.WriteLine($"  Aliases       {string.Join(", ", group.Select(a => a.Alias))} → {group.Key}");

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
