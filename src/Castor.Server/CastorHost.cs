using Castor.Api.Gemini;
using Castor.Api.Gemini.Infrastructure;
using Castor.Api.OpenAI;
using Castor.Application.Backends;
using Castor.Application.Embeddings;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Limits;
using Castor.Application.Models;
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
        builder.Services.AddCastorStorage(options, database);
        builder.Services.AddSingleton<ApiKeyService>();
        builder.Services.AddSingleton(new GenerationOptions { SharePrefixesAcrossProjects = options.Cache.ShareAcrossProjects });
        builder.Services.AddSingleton<GenerationService>();
        builder.Services.AddSingleton<IGenerationService>(sp => sp.GetRequiredService<GenerationService>());
        builder.Services.AddSingleton(new EmbeddingOptions { MaxBatchRequests = Math.Max(1, options.MaxEmbedBatchRequests) });
        builder.Services.AddSingleton<EmbeddingService>();
        builder.Services.AddSingleton<IEmbeddingService>(sp => sp.GetRequiredService<EmbeddingService>());
        builder.Services.AddSingleton(sp => LimitSettings(options, sp.GetRequiredService<ModelCatalogue>()));
        builder.Services.AddSingleton<ConcurrencyLimiter>();
        builder.Services.AddSingleton(sp => new MemoryBudget(sp.GetRequiredService<RequestLimitSettings>().RequestBodyMemory));
        builder.Services.AddOpenAIApi();
        builder.Services.AddSingleton(sp => LoadModels(options, sp.GetRequiredService<ILoggerFactory>(), console));

        var app = builder.Build();
        // Models load before the first request, not lazily inside it.
        var registry = app.Services.GetRequiredService<ModelCatalogue>();
        // Limits are resolved now, so a bad setting stops the start rather than the first request.
        app.Services.GetRequiredService<RequestLimitSettings>();

        var keys = app.Services.GetRequiredService<ApiKeyService>();
        if (!string.IsNullOrWhiteSpace(options.ApiKey))
            await keys.SeedKeyAsync(options.ApiKey.Trim(), ApiKeyService.DefaultProject, cancellationToken).ConfigureAwait(false);

        app.UseGeminiApi();
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/", () => Results.Text(
            $"Castor serves the Gemini API at /v1beta. Models: {string.Join(", ", registry.Models.Select(m => m.Description.Id))}.\n"));
        app.MapGeminiApi();
        app.MapOpenAIApi();

        app.Lifetime.ApplicationStarted.Register(() => PrintBanner(app, options, database, registry, keys, console));
        return app;
    }

    /// <summary>Configured limits, with zeros replaced by defaults sized from the loaded models' parallel sequences and the queue.</summary>
    internal static RequestLimitSettings LimitSettings(CastorOptions options, ModelCatalogue registry)
    {
        var limits = options.Limits;
        var parallel = registry.Models.Count == 0 ? 1 : registry.Models.Max(m => m.Description.Parallel);
        var (perKey, perProject) = RequestLimitSettings.DefaultConcurrency(parallel, options.MaxQueue);
        var defaults = new RequestLimitSettings();
        if (limits.MaxConcurrentRequestsPerKey < 0 || limits.MaxConcurrentRequestsPerProject < 0 || limits.RequestTimeout < TimeSpan.Zero || limits.RequestBodyMemory < 0)
            throw new InvalidOperationException("Limits: values must not be negative (0 means the default).");
        return new RequestLimitSettings
        {
            MaxConcurrentRequestsPerKey = limits.MaxConcurrentRequestsPerKey > 0 ? limits.MaxConcurrentRequestsPerKey : perKey,
            MaxConcurrentRequestsPerProject = limits.MaxConcurrentRequestsPerProject > 0 ? limits.MaxConcurrentRequestsPerProject : perProject,
            RequestTimeout = limits.RequestTimeout > TimeSpan.Zero ? limits.RequestTimeout : defaults.RequestTimeout,
            RequestBodyMemory = limits.RequestBodyMemory > 0 ? limits.RequestBodyMemory : defaults.RequestBodyMemory,
        };
    }

    /// <summary>The addresses Kestrel actually bound (port 0 becomes a real port).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    /// <summary>Translates the configuration into the catalogue's settings and loads every model (see <see cref="ModelLoader.LoadAll"/>).</summary>
    private static ModelCatalogue LoadModels(CastorOptions options, ILoggerFactory loggers, TextWriter console)
    {
        NativeLogging.RouteTo(loggers.CreateLogger("llama.cpp"));
        var engine = new EngineOptions
        {
            Threads = options.Threads,
            ContextSize = options.ContextSize,
            Parallel = options.Parallel,
            MaxQueue = options.MaxQueue,
            GrammarStepTimeout = options.Limits.GrammarStepTimeout > TimeSpan.Zero ? options.Limits.GrammarStepTimeout : Castor.Engine.Scheduling.SchedulerOptions.DefaultGrammarStepTimeout,
            FlashAttention = options.FlashAttention,
        };
        var settings = new ModelCatalogueSettings
        {
            Locations = options.Models.Count > 0 ? options.Models : [CastorOptions.DefaultModelsFolder],
            Models = options.ModelSettings.ToDictionary(m => m.Key, m => ToFileSettings(m.Value), StringComparer.OrdinalIgnoreCase),
            Aliases = options.Aliases,
            DefaultModel = options.DefaultModel,
            DefaultEmbeddingModel = options.DefaultEmbeddingModel,
            BuiltinEmbeddingModel = options.BuiltinEmbeddingModel,
            Engine = engine,
        };
        return new ModelLoader(engine, loggers, console).LoadAll(settings);
    }

    private static ModelFileSettings ToFileSettings(ModelSettings s) => new()
    {
        Path = s.Path,
        ChatTemplate = s.ChatTemplate,
        ContextSize = s.ContextSize,
        DisplayName = s.DisplayName,
        FlashAttention = s.FlashAttention,
        Aliases = s.Aliases,
        Thinking = s.Thinking is { } t ? new ThoughtMarkers(t.Start, t.End, t.StartsInThought) : null,
        Embedding = s.Embedding,
        Pooling = s.Pooling,
        PromptStyle = s.PromptStyle,
        TaskPrompts = s.TaskPrompts,
    };

    private static void PrintBanner(WebApplication app, CastorOptions options, IRelationalDatabase database, ModelCatalogue registry, ApiKeyService keys, TextWriter console)
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
            foreach (var backend in registry.Models)
            {
                var m = backend.Description;
                console.WriteLine($"  Model         {m.Id}  ({m.Architecture}, {m.Parallel} parallel sequences × context {m.ContextSize} = {m.KvCells} KV cells, flash attention {FlashAttention.Describe(m.FlashAttention)}, chat template: {m.ChatTemplateName}){(backend == registry.DefaultGenerative ? "  [default]" : "")}");
            }
            foreach (var group in registry.Aliases.GroupBy(a => a.Target.Description.Id))
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
}
