using Castor.Application.Caching;
using Castor.Application.Batches;
using Castor.Application.Embeddings;
using Castor.Application.Files;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Limits;
using Castor.Application.Media;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Castor.Application;

public static class ApplicationServiceCollectionExtensions
{
    /// <summary>
    /// The application services (keys, generation, embeddings, files, media decoding, caches, batches, request limits) and their settings as
    /// <c>IOptions&lt;T&gt;</c>, each checked when the host starts with a message that names the setting. Needs the stores
    /// (<c>IKeyStore</c>, <c>IFileStore</c>, <c>IBatchStore</c>, <c>FileContentStore</c>), a <c>ModelCatalogue</c> and a <see cref="TimeProvider"/>.
    /// <see cref="RequestLimitSettings"/> defaults depend on the loaded models: the host configures them.
    /// </summary>
    public static IServiceCollection AddCastorApplication(this IServiceCollection services, Action<GenerationOptions>? generation = null,
        Action<EmbeddingOptions>? embeddings = null, Action<FileLimits>? files = null, Action<MediaLimits>? media = null,
        Action<CacheSettings>? caches = null)
    {
        Add(services, caches)
            .Validate(o => o.MaxBytes > 0, "Caches:MaxBytes must be positive.")
            .Validate(o => o.SweepInterval > TimeSpan.Zero, "Caches:SweepInterval must be positive.")
            .Validate(o => o.MinCacheTokens.Values.All(n => n >= 1), "ModelSettings:{id}:MinCacheTokens must be at least 1.");
        Add(services, generation);
        Add(services, embeddings)
            .Validate(o => o.MaxBatchRequests >= 1, "MaxEmbedBatchRequests must be at least 1.");
        Add(services, files)
            .Validate(o => o.MaxFileBytes > 0, "Files:MaxFileBytes must be positive.")
            .Validate(o => o.ProjectQuotaBytes > 0, "Files:ProjectQuotaBytes must be positive.")
            .Validate(o => o.FileLifetime > TimeSpan.Zero, "Files:FileLifetime must be positive.")
            .Validate(o => o.SweepInterval > TimeSpan.Zero, "Files:SweepInterval must be positive.")
            .Validate(o => o.MaxOpenUploads >= 0, "Files:MaxOpenUploads must not be negative.")
            .Validate(o => o.UploadIdleTimeout > TimeSpan.Zero, "Files:UploadIdleTimeout must be positive.")
            .Validate(o => o.MaxPdfPages > 0, "Files:MaxPdfPages must be positive.")
            .Validate(o => o.MaxPdfDecodedBytes > 0, "Files:MaxPdfDecodedBytes must be positive.")
            .Validate(o => o.MaxConcurrentPdfParses > 0, "Files:MaxConcurrentPdfParses must be positive.");
        Add(services, media)
            .Validate(o => o.MaxImageInputPixels > 0, "Media:MaxImageInputPixels must be positive.")
            .Validate(o => o.MaxImageDecodePixels > 0, "Media:MaxImageDecodePixels must be positive.")
            .Validate(o => o.MaxImagePixels > 0 && o.MaxImagePixels <= o.MaxImageDecodePixels, "Media:MaxImagePixels must be positive and at most Media:MaxImageDecodePixels.")
            .Validate(o => o.MaxAudioSeconds > 0 && !double.IsNaN(o.MaxAudioSeconds) && o.MaxAudioSeconds <= 9.5 * 3600,
                "Media:MaxAudioSeconds must be positive and at most 34200 (9.5 hours, the API's limit).")
            .Validate(o => o.MaxInlineBytes > 0, "Media:MaxInlineBytes must be positive.")
            .Validate(o => o.MaxPartsPerRequest > 0, "Media:MaxPartsPerRequest must be positive.")
            .Validate(o => o.MaxDecodedBytesPerRequest > 0, "Media:MaxDecodedBytesPerRequest must be positive.")
            .Validate(o => o.MaxFileBytes > 0, "Media:MaxFileBytes must be positive.")
            .Validate(o => o.FfmpegTimeout > TimeSpan.Zero, "Media:FfmpegTimeout must be positive.");
        // Zero means "the default" when configured; the host's configuration step replaces it, so what is left is the user's.
        Add<RequestLimitSettings>(services, null)
            .Validate(o => o.MaxConcurrentRequestsPerKey >= 0, "Limits:MaxConcurrentRequestsPerKey must not be negative (0 means the default).")
            .Validate(o => o.MaxConcurrentRequestsPerProject >= 0, "Limits:MaxConcurrentRequestsPerProject must not be negative (0 means the default).")
            .Validate(o => o.RequestTimeout >= TimeSpan.Zero, "Limits:RequestTimeout must not be negative (0 means the default).")
            .Validate(o => o.RequestBodyMemory >= 0, "Limits:RequestBodyMemory must not be negative (0 means the default).");

        services.AddSingleton<ApiKeyService>();
        services.AddSingleton<AuthTokenService>();
        services.AddSingleton<Live.LiveResumptionService>();
        services.AddSingleton<GenerationService>();
        // The services bare: the host wraps them (rate limits, telemetry, metering) in the order it chooses.
        services.AddSingleton<IGenerationService>(sp => sp.GetRequiredService<GenerationService>());
        services.AddSingleton<EmbeddingService>();
        services.AddSingleton<IEmbeddingService>(sp => sp.GetRequiredService<EmbeddingService>());
        services.AddSingleton<ConcurrencyLimiter>();
        services.AddSingleton(sp => new MemoryBudget(sp.GetRequiredService<RequestLimitSettings>().RequestBodyMemory));
        services.AddSingleton<PdfExtractor>();
        services.AddSingleton<FileProcessor>();
        services.AddSingleton<FileService>();
        services.AddSingleton<IFileService>(sp => sp.GetRequiredService<FileService>());
        services.AddSingleton<IMediaDecoder, MediaDecoder>();
        services.AddSingleton<FilePartResolver>();
        services.AddSingleton<FileSweeper>();
        services.AddSingleton<CachedContentService>();
        services.AddSingleton<ICachedContentService>(sp => sp.GetRequiredService<CachedContentService>());
        services.AddOptions<BatchOptions>().ValidateOnStart()
            .Validate(o => o.MaxRunTime > TimeSpan.Zero, "Batches:MaxRunTime must be positive.")
            .Validate(o => o.LeaseDuration > TimeSpan.Zero, "Batches:LeaseDuration must be positive.")
            .Validate(o => o.PollInterval > TimeSpan.Zero, "Batches:PollInterval must be positive.")
            .Validate(o => o.MaxConcurrentRequests >= 0, "Batches:MaxConcurrentRequests must not be negative (0 means the default).");
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<BatchOptions>>().Value);
        services.AddSingleton<BatchWorker>();
        services.AddSingleton<BatchService>();
        return services;
    }

    /// <summary>Registers <c>IOptions&lt;T&gt;</c>, validated on start, and <typeparamref name="T"/> itself for the services that take it directly.</summary>
    private static OptionsBuilder<T> Add<T>(IServiceCollection services, Action<T>? configure) where T : class
    {
        var builder = services.AddOptions<T>();
        if (configure is not null) builder.Configure(configure);
        builder.ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<T>>().Value);
        return builder;
    }
}
