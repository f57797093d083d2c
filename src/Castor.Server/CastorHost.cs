using Castor.Api.Gemini;
using Castor.Api.Gemini.Infrastructure;
using Castor.Api.Gemini.Live;
using Castor.Api.Hosting;
using Castor.Application;
using Castor.Application.Caching;
using Castor.Application.Files;
using Castor.Application.Media;
using Castor.Application.Metering;
using Castor.Engine;
using Castor.Api.OpenAI;
using Castor.Application.Embeddings;
using Castor.Application.Keys;
using Castor.Application.Limits;
using Castor.Application.Models;
using Castor.Application.Quotas;
using Castor.Application.Telemetry;
using Castor.Engine.Models;
using Castor.Storage.Relational;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
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
        // Logging:Format json gives one JSON object per entry (the built-in formatter), for log collectors.
        if (string.Equals(options.Logging.Format, "json", StringComparison.OrdinalIgnoreCase))
            builder.Logging.AddJsonConsole(o => { o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; o.UseUtcTimestamp = true; });
        else if (string.Equals(options.Logging.Format, "simple", StringComparison.OrdinalIgnoreCase))
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        else
            throw new ArgumentException($"Logging:Format must be simple or json, not '{options.Logging.Format}'.");
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("llama.cpp", LogLevel.Warning);
        // Start-up failures (port in use, …) are reported by the CLI in one line; the host would add a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        configureLogging?.Invoke(builder.Logging);

        var database = await CastorStorage.OpenAsync(options, cancellationToken: cancellationToken).ConfigureAwait(false);

        builder.Services.AddSingleton(options);
        if (options.ShutdownTimeout < TimeSpan.Zero) throw new ArgumentException("ShutdownTimeout must not be negative.");
        // The grace period of a drain; Live sessions read the same setting for goAway's timeLeft.
        builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(h => h.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.AddHostedService<DrainOnShutdown>();
        builder.Services.AddCastorTelemetry(options.Metrics);
        builder.Services.AddCastorApiDocuments();
        builder.Services.AddSingleton(new PublicUrl(options.PublicUrl));
        builder.Services.AddSingleton(TimeProvider.System);
        // Each layer gets its own typed options from the one bound root; each default is defined in the layer's type.
        builder.Services.AddCastorEngine(engine =>
        {
            engine.Threads = options.Threads;
            engine.BatchThreads = options.BatchThreads;
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
            embeddings: e => e.MaxBatchRequests = options.MaxEmbedBatchRequests,
            caches: c => ConfigureCaches(options, c));
        builder.Services.AddHostedService<CacheMaintenance>();
        // Rate limits wrap the generation and embedding services registered above (nothing is wrapped without tiers);
        // telemetry wraps them, so a request the limiter refuses is in the GenAI metrics with error.type RESOURCE_EXHAUSTED;
        // metering wraps them in turn, so it is metered with its 429: Metering(Telemetry(Quota(service))).
        builder.Services.AddBoundOptions(options.Quotas);
        builder.Services.AddCastorQuotas(options.Quotas);
        builder.Services.AddRequestTelemetry();
        builder.Services.AddUsageMetering();
        builder.Services.AddBoundOptions(options.Usage);
        builder.Services.AddHostedService<UsageFlushing>();
        // The Files section is bound straight into the application's FileLimits: the layer gets that object, validated.
        builder.Services.AddBoundOptions(options.Files);
        builder.Services.AddBoundOptions(options.Media);
        builder.Services.AddBoundOptions(options.Batches);
        builder.Services.AddOptions<RequestLimitSettings>().Configure<ModelCatalogue>((limits, registry) => ResolveLimits(options, registry, limits));
        builder.Services.AddCastorApi(defaultErrorWriter: GeminiErrors.Instance);
        builder.Services.AddSingleton(new RequestLogSettings { Prompts = options.Logging.Prompts });
        builder.Services.AddGeminiApi();
        builder.Services.AddOpenAIApi();
        builder.Services.AddSingleton(options.Live);
        builder.Services.AddSingleton(sp => LoadModels(options, sp.GetRequiredService<EngineOptions>(), sp.GetRequiredService<ILoggerFactory>(), console));
        builder.Services.AddHostedService(sp => new ModelFolderWatcher(options, sp.GetRequiredService<ModelCatalogue>(),
            sp.GetRequiredService<EngineOptions>(), sp.GetRequiredService<ILoggerFactory>(), console));

        var app = builder.Build();
        // A bad setting stops the start before any model loads, with a message naming the setting (ValidateOnStart
        // would report it too, but only once the models had loaded and Kestrel was about to bind).
        _ = app.Services.GetRequiredService<IOptions<EngineOptions>>().Value;
        _ = app.Services.GetRequiredService<IOptions<FileLimits>>().Value;
        _ = app.Services.GetRequiredService<IOptions<MediaLimits>>().Value;
        _ = app.Services.GetRequiredService<IOptions<Castor.Application.Batches.BatchOptions>>().Value;
        _ = app.Services.GetRequiredService<IOptions<EmbeddingOptions>>().Value;
        _ = app.Services.GetRequiredService<IOptions<Castor.Application.Quotas.QuotaOptions>>().Value;
        _ = app.Services.GetRequiredService<IOptions<UsageOptions>>().Value;
        // Models load before the first request, not lazily inside it.
        var registry = app.Services.GetRequiredService<ModelCatalogue>();
        // Limits are resolved now (their defaults depend on the models), so a bad setting stops the start rather than the first request.
        app.Services.GetRequiredService<RequestLimitSettings>();

        var keys = app.Services.GetRequiredService<ApiKeyService>();
        if (!string.IsNullOrWhiteSpace(options.ApiKey))
            await keys.SeedKeyAsync(options.ApiKey.Trim(), ApiKeyService.DefaultProject, cancellationToken).ConfigureAwait(false);

        // The Live API's sockets; the SDK's //ws/ target is folded before routing matches it.
        app.UseWebSockets();
        app.UseLiveRequestTargets();
        app.UseWebConsole();
        app.UseRouting();
        app.UseCastorApi();
        // Every route needs a key unless it says otherwise: the probes, /metrics (unless Metrics:Anonymous is false),
        // the API's description and / are public.
        app.MapGet("/healthz", () => Results.Json(new Readiness.Liveness("ok"))).AllowAnonymous().WithTags("Operations")
            .Produces<Readiness.Liveness>().WithSummary("The process is alive (a liveness probe).");
        app.MapGet("/readyz", Readiness.ReadyAsync).AllowAnonymous().WithTags("Operations")
            .Produces<Readiness.ReadinessReport>().Produces<Readiness.ReadinessReport>(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Ready to serve: a model loaded, the database reachable, not draining (503 with what is wrong otherwise).");
        app.MapCastorMetrics(options.Metrics);
        app.MapCastorApiDocuments();
        app.MapGet("/", () => Results.Text(
            $"Castor serves the Gemini API at /v1beta. Models: {string.Join(", ", registry.Models.Select(m => m.Description.Id))}.\n")).AllowAnonymous()
            .WithTags("Operations").Produces<string>(contentType: "text/plain").WithSummary("What this server serves, in one line.");
        app.MapGeminiApi();
        app.MapOpenAIApi();
        app.MapGeminiLiveApi();

        app.Lifetime.ApplicationStarted.Register(() => PrintBanner(app, options, database, registry, keys, console));
        return app;
    }

    /// <summary>
    /// Configured limits over <paramref name="limits"/>' own defaults; the concurrency defaults are sized from the loaded
    /// models' parallel sequences and the queue. Zero means the default; a negative value is kept, for validation to report by name.
    /// </summary>
    internal static void ResolveLimits(CastorOptions options, ModelCatalogue registry, RequestLimitSettings limits)
    {
        var configured = options.Limits;
        var parallel = registry.Models.Count == 0 ? 1 : registry.Models.Max(m => m.Description.Parallel);
        var (perKey, perProject) = RequestLimitSettings.DefaultConcurrency(parallel, options.MaxQueue);
        limits.MaxConcurrentRequestsPerKey = configured.MaxConcurrentRequestsPerKey != 0 ? configured.MaxConcurrentRequestsPerKey : perKey;
        limits.MaxConcurrentRequestsPerProject = configured.MaxConcurrentRequestsPerProject != 0 ? configured.MaxConcurrentRequestsPerProject : perProject;
        if (configured.RequestTimeout != TimeSpan.Zero) limits.RequestTimeout = configured.RequestTimeout;
        if (configured.RequestBodyMemory != 0) limits.RequestBodyMemory = configured.RequestBodyMemory;
    }

    /// <summary>The Caches section and each model's MinCacheTokens.</summary>
    private static void ConfigureCaches(CastorOptions options, CacheSettings caches)
    {
        caches.MaxBytes = options.Caches.MaxBytes;
        caches.SweepInterval = options.Caches.SweepInterval;
        foreach (var (id, model) in options.ModelSettings)
            if (model.MinCacheTokens is { } minimum) caches.MinCacheTokens[id] = minimum;
        foreach (var (id, minimum) in options.Caches.MinCacheTokens) caches.MinCacheTokens.TryAdd(id, minimum);
    }

    /// <summary>The addresses Kestrel actually bound (port 0 becomes a real port).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    /// <summary>Translates the configuration into the catalogue's settings and loads every model (see <see cref="ModelLoader.LoadAll"/>).</summary>
    private static ModelCatalogue LoadModels(CastorOptions options, EngineOptions engine, ILoggerFactory loggers, TextWriter console)
    {
        NativeLogging.RouteTo(loggers.CreateLogger("llama.cpp"));
        var settings = new ModelCatalogueSettings
        {
            Locations = options.Models.Count > 0 ? options.Models : [CastorOptions.DefaultModelsFolder],
            Models = options.ModelSettings,
            Aliases = options.Aliases,
            DefaultModel = options.DefaultModel,
            DefaultEmbeddingModel = options.DefaultEmbeddingModel,
            BuiltinEmbeddingModel = options.BuiltinEmbeddingModel,
            Engine = engine,
        };
        return new ModelLoader(engine, loggers, console).LoadAll(settings);
    }

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024):0.#} MiB";

    private static void PrintBanner(WebApplication app, CastorOptions options, IRelationalDatabase database, ModelCatalogue registry, ApiKeyService keys, TextWriter console)
    {
        var addresses = Addresses(app);
        console.WriteLine();
        console.WriteLine("Castor is serving the Gemini API.");
        foreach (var address in addresses)
            console.WriteLine($"  Listening on  {address}/v1beta   (point an SDK's base URL at {address})");
        if (addresses.Count > 0) console.WriteLine($"  Console       {addresses[0]}{WebConsole.Path}/   (sign in with an API key)");
        console.WriteLine($"  Data          {Path.GetFullPath(options.Data)}  ({database.Description})");
        if (registry.Models.Count == 0)
        {
            var where = options.Models.Count > 0 ? string.Join(", ", options.Models) : Path.GetFullPath(CastorOptions.DefaultModelsFolder);
            console.WriteLine($"  Models        none found in {where}.");
            console.WriteLine("                Run `castor pull gemma-3-1b-it` (this server picks it up), put a .gguf file there, or start with");
            console.WriteLine("                --models <folder or .gguf file>; generation calls fail until then.");
        }
        else
        {
            foreach (var backend in registry.Models)
            {
                var m = backend.Description;
                console.WriteLine($"  Model         {m.Id}  ({m.Architecture}, {m.Parallel} parallel sequences × context {m.ContextSize} = {m.KvCells} KV cells, flash attention {FlashAttention.Describe(m.FlashAttention)}, {m.DecodeThreads} CPU threads ({m.BatchThreads} for prompts), chat template: {m.ChatTemplateName}){(backend == registry.DefaultGenerative ? "  [default]" : "")}");
                if (m.Projector is { } projector) console.WriteLine($"                {projector.Describe()}");
            }
            foreach (var group in registry.Aliases.GroupBy(a => a.Target.Description.Id))
                console.WriteLine($"  Aliases       {string.Join(", ", group.Select(a => a.Alias))} → {group.Key}");
        }
        foreach (var e in registry.EmbeddingModels)
            console.WriteLine($"  Embedding     {e.Id}  ({e.Info.Runtime}, {e.Info.Dimensions} dimensions, prompts: {e.Prompts.Style}){(e == registry.DefaultEmbedding ? "  [default]" : "")}");
        foreach (var group in registry.EmbeddingAliases.GroupBy(a => a.Target.Id))
            console.WriteLine($"  Aliases       {string.Join(", ", group.Select(a => a.Alias))} → {group.Key}");

        var caches = app.Services.GetRequiredService<CachedContentService>();
        var live = caches.ListAllAsync(CancellationToken.None).GetAwaiter().GetResult();
        console.WriteLine($"  Caches        {live.Count} cached contents, {Mib(live.Sum(c => c.SnapshotBytes))} of KV snapshots on disk; up to {Mib(options.Caches.MaxBytes)} in memory and on disk (Caches:MaxBytes)");

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
}
