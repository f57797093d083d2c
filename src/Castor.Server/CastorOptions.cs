using Castor.Application.Caching;
using Castor.Api.Gemini.Live;
using Castor.Application.Models;
using Castor.Application.Embeddings;
using Castor.Application.Batches;
using Castor.Application.Files;
using Castor.Application.Media;
using Castor.Application.Metering;
using Castor.Engine.Models;
using Castor.Hub;

namespace Castor.Server;

/// <summary>
/// Everything <c>castor serve</c> can be told, bound from the <c>Castor</c> section of appsettings.json / castor.json,
/// from <c>CASTOR_*</c> environment variables, and from flags (in rising order of precedence).
/// </summary>
public sealed class CastorOptions
{
    public const string Section = "Castor";

    /// <summary>Where Kestrel listens (semicolon-separated URLs).</summary>
    public string Urls { get; set; } = "http://127.0.0.1:8787";

    /// <summary>
    /// The URL clients reach this server at (<c>https://castor.example.com</c>), for the upload and file URLs it returns;
    /// set it behind a reverse proxy. Default: the address a request arrived on (never the request's Host header).
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary>Folders and .gguf files to load models from.</summary>
    public List<string> Models { get; set; } = [];

    /// <summary>State folder: SQLite database (castor.db) and uploaded files (files/).</summary>
    public string Data { get; set; } = "data";

    /// <summary>CPU threads for a single stream's decode steps; 0 = one logical processor left to the server (at most one per core).</summary>
    public int Threads { get; set; }

    /// <summary>CPU threads for prompt and multi-sequence steps; 0 = Threads when set, else every logical processor.</summary>
    public int BatchThreads { get; set; }

    public int ContextSize { get; set; }
    public int Parallel { get; set; }
    public int MaxQueue { get; set; } = EngineOptions.DefaultMaxQueue;

    /// <summary>auto, on or off for every model (ModelSettings:{id}:FlashAttention per model); unset: off on the CPU, llama.cpp's auto with a GPU.</summary>
    public FlashAttentionMode? FlashAttention { get; set; }

    /// <summary>Model that Gemini names resolve to; default: the first model found.</summary>
    public string? DefaultModel { get; set; }

    /// <summary>Extra names for models: alias → model id.</summary>
    public Dictionary<string, string> Aliases { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Per-model settings by model id; an entry with a Path also defines a model.</summary>
    public Dictionary<string, ModelSettings> ModelSettings { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Model that Gemini embedding names (gemini-embedding-001, text-embedding-004, embedding-001, …) resolve to; default: the built-in one.</summary>
    public string? DefaultEmbeddingModel { get; set; }

    /// <summary>Serve the built-in embedding model (all-MiniLM-L6-v2 on ONNX Runtime) as <c>text-embedding-minilm</c>.</summary>
    public bool BuiltinEmbeddingModel { get; set; } = true;

    /// <summary>Requests one batchEmbedContents call may hold; the API allows 100.</summary>
    public int MaxEmbedBatchRequests { get; set; } = EmbeddingOptions.DefaultMaxBatchRequests;

    /// <summary>SQLite (default) or PostgreSQL (Storage:Postgres, CASTOR_STORAGE__POSTGRES).</summary>
    public StorageOptions Storage { get; set; } = new();

    /// <summary>Files API limits and upkeep (Files:MaxFileBytes, Files:ProjectQuotaBytes, Files:FileLifetime, Files:SweepInterval, …): the application's own type, so its defaults are defined once.</summary>
    public FileLimits Files { get; set; } = new();

    /// <summary>Image and audio decoding bounds (Media:MaxImagePixels, Media:MaxAudioSeconds, Media:FfmpegPath, …): the application's own type.</summary>
    public MediaLimits Media { get; set; } = new();

    /// <summary>Batch API jobs (Batches:MaxRunTime, Batches:LeaseDuration, Batches:PollInterval, Batches:MaxConcurrentRequests): the application's own type.</summary>
    public BatchOptions Batches { get; set; } = new();

    /// <summary>Implicit prefix caching (Cache:ShareAcrossProjects).</summary>
    public CacheOptions Cache { get; set; } = new();

    /// <summary>Cached contents' KV snapshots: <c>Caches:MaxBytes</c> (memory, and again disk), <c>Caches:SweepInterval</c>.</summary>
    public CacheSettings Caches { get; set; } = new();

    /// <summary>Per-key, per-project and per-request limits (Limits:MaxConcurrentRequestsPerKey, …, CASTOR_LIMITS__*).</summary>
    public LimitsOptions Limits { get; set; } = new();

    /// <summary>Where <c>castor pull</c> and the first run fetch models (Hub:Url, Hub:Token, Hub:DefaultModel; HF_ENDPOINT and HF_TOKEN when unset).</summary>
    public HubOptions Hub { get; set; } = new();

    /// <summary>
    /// Pull <c>Hub:DefaultModel</c> when <c>castor serve</c> starts with an empty models folder and no models configured
    /// (CASTOR_AUTO_PULL; <c>--no-pull</c>). A top-level key because <c>Models</c> is the list of model locations.
    /// </summary>
    public bool AutoPull { get; set; } = true;

    /// <summary>Rate limits: usage tiers and their per-model limits (Quotas:Tiers:{tier}:{model or *}:Rpm|Tpm|Rpd|BatchEnqueuedTokens, Quotas:DefaultTier).</summary>
    public Castor.Application.Quotas.QuotaOptions Quotas { get; set; } = new();

    /// <summary>Live API sessions (Live:MaxSessions, Live:MaxSessionDuration, Live:MaxMessageBytes, Live:ResumptionHandleLifetime).</summary>
    public LiveOptions Live { get; set; } = new();

    /// <summary>Usage metering (Usage:FlushInterval) and the price table for its estimated cost (Usage:Prices:{model}:InputPerMillion, …): the application's own type.</summary>
    public UsageOptions Usage { get; set; } = new();

    /// <summary>A key to register for the default project at start-up (CASTOR_API_KEY).</summary>
    public string? ApiKey { get; set; }

    public static readonly string DefaultModelsFolder = "models";
}

public sealed class CacheOptions
{
    /// <summary>
    /// Reuse resident prompt prefixes across projects. Off by default: sharing lets one project learn another's prompts
    /// from cachedContentTokenCount and time to first token. Only for installations where all keys are one tenant.
    /// </summary>
    public bool ShareAcrossProjects { get; set; }
}

/// <summary>The <c>Limits</c> section. Zero means "the default", which may depend on the loaded models.</summary>
public sealed class LimitsOptions
{
    /// <summary>Model requests (generateContent, streamGenerateContent, countTokens, embeddings, chat completions) one API key may have in flight; default: an eighth of the busiest model's parallel sequences plus MaxQueue.</summary>
    public int MaxConcurrentRequestsPerKey { get; set; }

    /// <summary>The same for all keys of one project together; default: a quarter of the busiest model's parallel sequences plus MaxQueue.</summary>
    public int MaxConcurrentRequestsPerProject { get; set; }

    /// <summary>How long one model request may run before it is cancelled with DEADLINE_EXCEEDED; default 10 minutes.</summary>
    public TimeSpan RequestTimeout { get; set; }

    /// <summary>Memory for large JSON request bodies at once, server-wide (each body over 64 KiB charged 12× its size); default 1 GiB.</summary>
    public long RequestBodyMemory { get; set; }

    /// <summary>The most one grammar-constrained token draw may take before its request fails with a 400 (structured output, forced tool calls); default 5 s.</summary>
    public TimeSpan GrammarStepTimeout { get; set; }
}
